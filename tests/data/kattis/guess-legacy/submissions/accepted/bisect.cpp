#include <iostream>
#include <string>
int main() {
    long long n;
    std::cin >> n;
    long long lo = 1, hi = n;
    for (;;) {
        long long guess = (lo + hi) / 2;
        std::cout << guess << std::endl;
        std::string said;
        if (!(std::cin >> said) || said == "correct") return 0;
        if (said == "higher") lo = guess + 1; else hi = guess - 1;
    }
}
