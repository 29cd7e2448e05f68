import KBinary
