#include <stdio.h>

int main(void) {
    long long a, b;
    if (scanf("%lld %lld", &a, &b) != 2) return 1;
    volatile int *p = NULL;
    *p = (int)(a + b);
    return 0;
}
