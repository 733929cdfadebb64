# The program whose start-up `mikro bench` times: one task prints a line. It is shipped with
# the package, so the benchmark runs wherever mikro is installed.
task main {
    print("hello, world")
}

spawn main()
