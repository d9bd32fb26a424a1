"""python -m extraction.cli: the same as the `xxgk` console script."""

from extraction.cli import main

if __name__ == "__main__":
    main()
