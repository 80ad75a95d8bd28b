from archprobe.cli.app import main

main()
