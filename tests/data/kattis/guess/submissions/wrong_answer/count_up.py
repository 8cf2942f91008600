# Guesses 1, 2, 3, ...: far too many guesses for a large secret.
n = int(input())
for guess in range(1, n + 1):
    print(guess, flush=True)
    if input() == "correct":
        break
