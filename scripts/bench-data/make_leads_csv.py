#!/usr/bin/env python3
"""A realistic lead file for the import benchmark: varied name/phone/email formats, with
10% duplicate numbers (repeats of earlier rows), 2% invalid numbers and 1% numbers that the
benchmark opts out first (written, one per line, to the second path).

    make_leads_csv.py ROWS OUT.csv OPTED_OUT.txt
"""
import random
import sys

rows, out_path, opted_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = random.Random(42)
first = ["Ada", "Bob", "Chloe", "Dev", "Emma", "Farah", "George", "Hana", "Ivan", "Jess", "Kofi", "Lena", "Mo", "Nia"]
last = ["Smith", "Jones", "Patel", "O'Brien", "Nowak", "Khan", "Taylor", "Brown", "Wilson", "Evans", "Garcia", "Lee"]
sources = ["website", "referral", "facebook", "walk-in", "google"]


def fmt(national):  # national: 10 digits after the leading 0, e.g. 7700900123
    style = rng.randrange(4)
    if style == 0:
        return f"0{national[:4]} {national[4:]}"
    if style == 1:
        return f"+44 {national[:4]} {national[4:]}"
    if style == 2:
        return f"0044{national}"
    return f"0{national}"


unique = []
opted = []
with open(out_path, "w", newline="") as out:
    out.write("Full Name,Mobile,Email,Source,Tags,Postcode\r\n")
    for i in range(rows):
        roll = rng.random()
        if roll < 0.10 and unique:
            national = rng.choice(unique)
            phone = fmt(national)
        elif roll < 0.12:
            phone = rng.choice(["0770090", "09065 123456", "call me", "+999 123", "07700 900 12345"])
        else:
            # 074[0-46-9] is wholly allocated to mobiles (Ofcom; libphonenumber agrees).
            national = f"74{rng.choice('012346789')}{rng.randrange(1_000_000, 9_999_999)}"
            unique.append(national)
            phone = fmt(national)
            if roll < 0.13:
                opted.append("+44" + national)
        name = f"{rng.choice(first)} {rng.choice(last)}"
        email = f"{name.split()[0].lower()}.{i}@example.com"
        tags = rng.choice(["", "vip", "new,spring", "cold"])
        postcode = f"SW{rng.randrange(1, 20)} {rng.randrange(1, 9)}AA"
        quoted = '"' + name.replace('"', '""') + '"' if "'" in name else name
        out.write(f"{quoted},{phone},{email},{rng.choice(sources)},\"{tags}\",{postcode}\r\n")
with open(opted_path, "w") as opted_file:
    opted_file.write("\n".join(opted) + "\n")
