from wheelyard.cli import main

main()
