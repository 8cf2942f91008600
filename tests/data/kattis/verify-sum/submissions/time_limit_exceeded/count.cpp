// Counts up to a + b one by one: fine on the samples, too slow on 4 * 10^9.
#include <iostream>

int main() {
    long long a, b;
    std::cin >> a >> b;
    volatile long long n = 0;
    for (long long i = 0; i < a + b; ++i) n = n + 1;
    std::cout << a + b << "\n";
}
