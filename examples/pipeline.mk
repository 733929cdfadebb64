# pipeline.mk: three stages joined by 1-to-1 channels. The source sends 1..n, the squarer
# squares each number, the sink adds them up. -1 marks the end of the stream.
const END = -1

task source(n) {
    let out = channel("numbers", ONE)
    let i = 1
    while i <= n {
        send(out, i)
        i += 1
    }
    send(out, END)
}

task squarer {
    let inp = open("numbers")
    let out = channel("squares", ONE)
    loop {
        let h, x = recv(inp)
        if x == END { break }
        send(out, x * x)
    }
    send(out, END)
}

task sink {
    let inp = open("squares")
    let sum = 0
    let count = 0
    loop {
        let h, x = recv(inp)
        if x == END { break }
        sum += x
        count += 1
    }
    print("sum of", count, "squares:", sum)
}

spawn source(10)
spawn squarer()
spawn sink()
