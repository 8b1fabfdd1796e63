#!/usr/bin/env python
from changxin.cli import main

if __name__ == "__main__":
    main()
