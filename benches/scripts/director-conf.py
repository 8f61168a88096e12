# benches/scripts/director-conf.py N M CHANGED: prints the director bench configuration (N virtual
# servers x M real servers, NAT, wlc, TCP; CHANGED=1 raises the first real server weight to 5),
# the same file as crates/ipvs-netlink/examples/director_bench.rs generates.
import sys
n, m, changed = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
out = ["global_defs {\n    router_id bench\n}"]
for i in range(n):
    addr = f"192.0.2.{i % 250 + 1}"; port = 1000 + i // 250
    out.append(f"virtual_server {addr} {port} {{\n    lb_algo wlc\n    lb_kind NAT\n    protocol TCP")
    for j in range(m):
        ip = f"198.51.100.{j+1}" if j < 250 else f"203.0.113.{j % 250 + 1}"
        w = 5 if changed and i == 0 and j == 0 else 1
        out.append(f"    real_server {ip} 8080 {{\n        weight {w}\n    }}")
    out.append("}")
print("\n".join(out))
