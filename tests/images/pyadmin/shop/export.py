"""CSV export: imported by the view only when a CSV is asked for."""
import csv
import io


def items_csv(items):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "name", "price", "stock", "added"])
    for item in items:
        writer.writerow([item.pk, item.name, item.price, item.stock, item.added.isoformat()])
    return out.getvalue()
