import sys

from coach.cli import main

if __name__ == "__main__":
    sys.exit(
        main()
    )  # like the console script: main() returns the exit code of click's Exit (130 after a stop)
