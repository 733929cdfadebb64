# hello.mk: the smallest program: one task prints a line.
task main {
    print("hello, world")
}

spawn main()
