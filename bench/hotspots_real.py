"""Map the real messages (messages_hot.csv: id,user,title,time,content,likes,dislikes) to the input
of `changxin insight hotspots`, written outside the repository (the messages may not be committed).

    python bench/hotspots_real.py ../shared/data/messages_hot.csv /tmp/hot_in.csv
    changxin insight hotspots --input /tmp/hot_in.csv --output /tmp/hot_out.csv --as-of 2019-12-31

id → id, time → received_at, title, content; street ← the masked district named in the title (else
the content), e.g. "A3区", "A7县", "" when none; requester ← user; category empty (the file has none).
"""

import csv
import re
import sys

DISTRICT = re.compile(r"[A-Z]\d{1,2}[区县市]")


def main(source: str, target: str) -> None:
    csv.field_size_limit(1 << 30)
    with (
        open(source, encoding="utf-8", newline="") as inp,
        open(target, "w", encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out)
        writer.writerow(["id", "received_at", "title", "content", "street", "requester"])
        for row in csv.DictReader(inp):
            place = DISTRICT.search(row["title"]) or DISTRICT.search(row["content"] or "")
            writer.writerow(
                [
                    row["id"],
                    row["time"],
                    row["title"],
                    row["content"],
                    place.group(0) if place else "",
                    row["user"],
                ]
            )


if __name__ == "__main__":
    main(*sys.argv[1:3])
