n = int(input())
print(sum(range(n + 1)) if n <= 1000 else 0)  # group 1 only: 40 points
