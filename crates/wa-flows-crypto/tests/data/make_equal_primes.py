#!/usr/bin/env python3
"""Writes rsa2048_equal_primes.pem: a PKCS#1 key whose two primes are the same (n = p^2),
which some loaders accept and which anyone can factor. Standard library only."""
import base64, secrets
def is_probable_prime(n, k=40):
    for p in [2,3,5,7,11,13,17,19,23,29,31,37]:
        if n % p == 0: return n == p
    d, r = n-1, 0
    while d % 2 == 0: d//=2; r+=1
    for _ in range(k):
        a = secrets.randbelow(n-3)+2
        x = pow(a, d, n)
        if x in (1, n-1): continue
        for _ in range(r-1):
            x = pow(x, 2, n)
            if x == n-1: break
        else: return False
    return True
while True:
    p = secrets.randbits(1024) | (1 << 1023) | (1 << 1022) | 1
    if is_probable_prime(p) and (p-1) % 65537 != 0: break
e = 65537; n = p*p; d = pow(e, -1, p*(p-1))
def der_len(l):
    if l < 128: return bytes([l])
    b = l.to_bytes((l.bit_length()+7)//8, 'big'); return bytes([0x80|len(b)]) + b
def der_int(x):
    b = x.to_bytes(x.bit_length()//8 + 1, 'big')
    return b'\x02' + der_len(len(b)) + b
body = b''.join(der_int(x) for x in [0, n, e, d, p, p, d % (p-1), d % (p-1), 1])
der = b'\x30' + der_len(len(body)) + body
b64 = base64.b64encode(der).decode()
pem = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(b64[i:i+64] for i in range(0, len(b64), 64)) + "\n-----END RSA PRIVATE KEY-----\n"
open('rsa2048_equal_primes.pem','w').write(pem)
print(n.bit_length())
