from fenghuo.cli import main

main()
