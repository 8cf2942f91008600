# Right while the sum fits in 31 bits.
a, b = map(int, input().split())
print((a + b) % 2**31)
