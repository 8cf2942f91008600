n = int(input())
lo, hi = 1, n
while True:
    guess = (lo + hi) // 2
    print(guess, flush=True)
    said = input()
    if said == "correct":
        break
    if said == "higher":
        lo = guess + 1
    else:
        hi = guess - 1
