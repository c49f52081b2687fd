import SparrowCLI

Sparrow.main()
