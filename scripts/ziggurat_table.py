# Writes the 256-layer ziggurat table of the standard normal that
# engine/src/random.cpp holds (kNormalLayerX, whose x[1] is r, and kNormalLayerF),
# as exact hex floats:
#
#   /usr/bin/python3 scripts/ziggurat_table.py table.txt
#
# (python3-mpmath, which Debian's python3-sympy brings.) Line 1 is r, then
# 257 lines "x[i] f(x[i])".
# Solve for the 256-layer ziggurat of the standard normal density
# f(x) = exp(-x^2/2) (unnormalised): r such that the layers, each of area
# v(r) = r f(r) + int_r^inf f, stack exactly up to f(0) = 1.
import mpmath as mp
mp.mp.dps = 60
N = 256
f = lambda x: mp.exp(-x * x / 2)
def v_of(r): return r * f(r) + mp.sqrt(mp.pi / 2) * mp.erfc(r / mp.sqrt(2))
def top_excess(r):
    v = v_of(r); x = r
    for i in range(2, N):
        a = v / x + f(x)
        if a >= 1: return mp.mpf(-1) * (N - i)   # ran out: r too small
        x = mp.sqrt(-2 * mp.log(a))
    return x * (1 - f(x)) - v
r = mp.findroot(top_excess, mp.mpf("3.6541528853610088"))
v = v_of(r)
x = [v / f(r), r]
for i in range(2, N):
    x.append(mp.sqrt(-2 * mp.log(v / x[-1] + f(x[-1]))))
x.append(mp.mpf(0))
print("r", mp.nstr(r, 25), "v", mp.nstr(v, 25), "excess", mp.nstr(top_excess(r), 5))
import sys
with open(sys.argv[1], "w") as out:
    out.write("r=%s\n" % float(r).hex())
    for xi in x:
        out.write("%s %s\n" % (float(xi).hex(), float(f(xi)).hex()))
