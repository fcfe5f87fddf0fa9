from reasoning.cli.app import main

main()
