"""Interactor of "Guess the Number" (written for codeexec's tests).

The input file holds "n secret". The interactor tells the submission n; the submission
guesses numbers in [1, n], one per line, and is told "higher", "lower" or "correct". It
may guess at most ceil(log2(n + 1)) times (what bisection needs)."""

import sys


def reject(feedback_dir: str, message: str) -> None:
    with open(f"{feedback_dir}/judgemessage.txt", "w") as out:
        out.write(message)
    sys.exit(43)


def main() -> None:
    input_file, _answer, feedback_dir = sys.argv[1:4]
    with open(input_file) as given:
        n, secret = map(int, given.read().split())
    allowed = n.bit_length()
    print(n, flush=True)
    for guess_number in range(1, allowed + 1):
        line = sys.stdin.readline()
        if not line:
            reject(feedback_dir, f"no guess {guess_number}: input ended")
        try:
            guess = int(line)
        except ValueError:
            reject(feedback_dir, f"guess {guess_number} is not a number: {line[:40]!r}")
        if guess == secret:
            print("correct", flush=True)
            with open(f"{feedback_dir}/teammessage.txt", "w") as out:
                out.write(f"found in {guess_number} guesses")
            sys.exit(42)
        print("higher" if guess < secret else "lower", flush=True)
    reject(feedback_dir, f"more than {allowed} guesses")


main()
