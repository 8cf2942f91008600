/* Never flushes its guess: the interactor waits for it, it waits for the answer. */
#include <stdio.h>
int main(void) {
    long long n;
    if (scanf("%lld", &n) != 1) return 1;
    printf("%lld\n", (n + 1) / 2);
    char said[16];
    scanf("%15s", said);
    return 0;
}
