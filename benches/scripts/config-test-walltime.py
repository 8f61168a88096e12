# benches/scripts/config-test-walltime.py OLD NEW FILE [ROUNDS]: wall time of `BIN -t -f FILE`
# (parse + validate + exit) for two hagroupd binaries, run alternately (the order swaps every
# round) so both see the same load; prints median/min/max per binary and the ratio of medians.
import statistics, subprocess, sys, time

old, new, conf = sys.argv[1], sys.argv[2], sys.argv[3]
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 31
res = {old: [], new: []}
for i in range(rounds):
    for b in ([old, new] if i % 2 == 0 else [new, old]):
        t = time.perf_counter()
        r = subprocess.run([b, "-t", "-f", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        res[b].append((time.perf_counter() - t) * 1e3)
        if r.returncode != 0:
            sys.exit(f"{b} -t -f {conf} exited {r.returncode}")
for b in (old, new):
    v = sorted(res[b])
    print(f"{b}: median {statistics.median(v):.1f} ms, min {v[0]:.1f}, max {v[-1]:.1f} ({rounds} runs)")
print(f"ratio of medians: {statistics.median(res[old]) / statistics.median(res[new]):.2f}x")
