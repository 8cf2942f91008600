"""Triangle numbers' validator: the answer file holds the expected number and what the
test is worth; an exact answer earns it all, one off by one half (score.txt)."""

import sys


def main() -> None:
    _, answer_file, feedback = sys.argv[1:4]
    with open(answer_file) as f:
        expected, worth = f.read().split()
    got = sys.stdin.read().split()
    if len(got) != 1 or not got[0].lstrip("-").isdigit():
        with open(feedback + "judgemessage.txt", "w") as f:
            f.write("expected one integer")
        sys.exit(43)
    off = abs(int(got[0]) - int(expected))
    if off > 1:
        with open(feedback + "judgemessage.txt", "w") as f:
            f.write(f"off by {off}")
        sys.exit(43)
    with open(feedback + "score.txt", "w") as f:
        f.write(f"{int(worth) / (1 if off == 0 else 2)}\n")
    sys.exit(42)


main()
