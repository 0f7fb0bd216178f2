"""The naive baseline, written the way the original take-home did it. Not project code.

Sequential requests.get per page with no session, resp.json(), float sums, no validation:
fast because it checks nothing; the bar the real client has to beat while checking everything.
"""

import sys

import requests

url = sys.argv[1]
total = 0.0
daily: dict[str, float] = {}
page = 1
while True:
    resp = requests.get(url.format(page=page), timeout=30)
    if resp.status_code == 404:
        break
    for t in resp.json()["transactions"]:
        amount = float(t["Amount"])
        total += amount
        daily[t["Date"]] = daily.get(t["Date"], 0.0) + amount
    page += 1
balance = 0.0
for day in sorted(daily):
    balance += daily[day]
print(f"{total:.2f} {len(daily)} days")
