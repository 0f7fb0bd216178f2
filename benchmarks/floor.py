"""The floor: the least a client can do with the ledger. Not project code.

Page 1, then pages 2..N+1 (N from the total and page 1's size) by 8 threads over urllib3, each
body decoded into typed msgspec structs, and nothing else: no validation, no sums, no report.
`bench.py` reports every scenario against it: how far benchtest is from what the machine allows.
"""

import sys
import threading
from datetime import date

import msgspec
import urllib3


class Transaction(msgspec.Struct):
    Date: date
    Ledger: str
    Amount: str
    Company: str


class Page(msgspec.Struct):
    totalCount: int
    page: int
    transactions: list[Transaction]


url = sys.argv[1]
http = urllib3.PoolManager(maxsize=8, block=True)
decode = msgspec.json.Decoder(Page).decode
first = decode(http.request("GET", url.format(page=1)).data)
size = len(first.transactions)
numbers = iter(range(2, (-(-first.totalCount // size) if size else 0) + 2))
lock = threading.Lock()
count = size


def fetch() -> None:
    global count
    while True:
        with lock:
            number = next(numbers, None)
        if number is None:
            return
        response = http.request("GET", url.format(page=number))
        if response.status == 200:
            served = len(decode(response.data).transactions)
            with lock:
                count += served


threads = [threading.Thread(target=fetch) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(count)
