from archprobe.cli import main

main()
