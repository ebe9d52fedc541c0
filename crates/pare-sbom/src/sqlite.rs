//! A minimal read-only SQLite reader: enough to walk one table's B-tree (overflow
//! pages included) in a database held in memory. rpm keeps its database in SQLite
//! (`rpmdb.sqlite`), and linking the SQLite library for one table would be more than
//! this needs. Every offset is bounds-checked: the file comes from an image.

use std::collections::HashSet;

/// A value of a record column.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Float(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

/// Owned column values of one row (payloads spilling into overflow pages are copied).
pub(crate) type Row = Vec<OwnedValue>;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum OwnedValue {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<Value<'_>> for OwnedValue {
    fn from(v: Value<'_>) -> Self {
        match v {
            Value::Null => OwnedValue::Null,
            Value::Int(i) => OwnedValue::Int(i),
            Value::Float(f) => OwnedValue::Float(f),
            Value::Text(t) => OwnedValue::Text(String::from_utf8_lossy(t).into_owned()),
            Value::Blob(b) => OwnedValue::Blob(b.to_vec()),
        }
    }
}

/// An opened database.
pub(crate) struct Database<'a> {
    bytes: &'a [u8],
    page_size: usize,
    usable: usize,
}

type R<T> = Result<T, String>;

impl<'a> Database<'a> {
    pub fn open(bytes: &'a [u8]) -> R<Self> {
        if bytes.len() < 100 || !bytes.starts_with(b"SQLite format 3\0") {
            return Err("not an SQLite 3 database".into());
        }
        let raw = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
        let page_size = if raw == 1 { 65536 } else { raw };
        if page_size < 512 || !page_size.is_power_of_two() {
            return Err(format!("bad page size {page_size}"));
        }
        let usable = page_size - usize::from(bytes[20]);
        Ok(Database {
            bytes,
            page_size,
            usable,
        })
    }

    fn page(&self, number: u32) -> R<&'a [u8]> {
        let start = (number as usize)
            .checked_sub(1)
            .ok_or("page 0 referenced")?
            * self.page_size;
        self.bytes
            .get(start..start + self.page_size)
            .ok_or_else(|| format!("page {number} is past the end of the file (truncated?)"))
    }

    /// The rows of the table called `name`.
    pub fn table(&self, name: &str) -> R<Vec<Row>> {
        let schema = self.rows(1)?;
        let root = schema
            .iter()
            .find_map(|row| match (row.first(), row.get(1), row.get(3)) {
                (
                    Some(OwnedValue::Text(kind)),
                    Some(OwnedValue::Text(n)),
                    Some(OwnedValue::Int(root)),
                ) if kind == "table" && n == name => Some(*root),
                _ => None,
            })
            .ok_or_else(|| format!("no table {name:?}"))?;
        self.rows(u32::try_from(root).map_err(|_| "bad root page")?)
    }

    /// Every row of the table B-tree rooted at `root`, in rowid order.
    pub fn rows(&self, root: u32) -> R<Vec<Row>> {
        let mut out = Vec::new();
        let mut stack = vec![root];
        let mut seen = HashSet::new();
        while let Some(number) = stack.pop() {
            if !seen.insert(number) {
                return Err(format!("page {number} visited twice: a loop in the B-tree"));
            }
            let page = self.page(number)?;
            let header_at = if number == 1 { 100 } else { 0 };
            let h = page
                .get(header_at..header_at + 12)
                .ok_or("page header cut")?;
            let cells = usize::from(u16::from_be_bytes([h[3], h[4]]));
            let interior = match h[0] {
                0x0d => false,
                0x05 => true,
                t => return Err(format!("page {number}: not a table B-tree page (type {t})")),
            };
            let pointers_at = header_at + if interior { 12 } else { 8 };
            let mut children = Vec::new();
            for i in 0..cells {
                let p = pointers_at + 2 * i;
                let ptr = page.get(p..p + 2).ok_or("cell pointer cut")?;
                let cell = usize::from(u16::from_be_bytes([ptr[0], ptr[1]]));
                let cell = page.get(cell..).ok_or("cell outside its page")?;
                if interior {
                    children.push(be32(cell).ok_or("interior cell cut")?);
                } else {
                    out.push(self.leaf_row(cell)?);
                }
            }
            if interior {
                children.push(be32(&h[8..]).ok_or("right pointer cut")?);
                // Pushed in reverse so that rows come out in order.
                stack.extend(children.into_iter().rev());
            }
        }
        Ok(out)
    }

    fn leaf_row(&self, cell: &[u8]) -> R<Row> {
        let (payload_len, n1) = varint(cell).ok_or("payload size cut")?;
        let (_rowid, n2) = varint(&cell[n1..]).ok_or("rowid cut")?;
        let body = &cell[n1 + n2..];
        let payload_len = usize::try_from(payload_len).map_err(|_| "payload too large")?;
        let u = self.usable;
        let max_local = u - 35;
        let payload = if payload_len <= max_local {
            body.get(..payload_len).ok_or("payload cut")?.to_vec()
        } else {
            let min_local = (u - 12) * 32 / 255 - 23;
            let k = min_local + (payload_len - min_local) % (u - 4);
            let local = if k <= max_local { k } else { min_local };
            let mut payload = body.get(..local).ok_or("payload cut")?.to_vec();
            let mut next = be32(&body[local..]).ok_or("overflow pointer cut")?;
            let mut hops = 0usize;
            while payload.len() < payload_len {
                hops += 1;
                if next == 0 || hops > self.bytes.len() / self.page_size {
                    return Err("overflow chain ends early or loops".into());
                }
                let page = self.page(next)?;
                next = be32(page).ok_or("overflow page cut")?;
                let want = (payload_len - payload.len()).min(u - 4);
                payload.extend_from_slice(page.get(4..4 + want).ok_or("overflow page cut")?);
            }
            payload
        };
        Ok(record(&payload)?
            .into_iter()
            .map(OwnedValue::from)
            .collect())
    }
}

fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// SQLite's big-endian varint (1–9 bytes).
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let byte = *b.get(i)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Decodes a record: a header of serial types, then the values.
fn record(payload: &[u8]) -> R<Vec<Value<'_>>> {
    let (header_len, mut at) = varint(payload).ok_or("record header cut")?;
    let header_len = usize::try_from(header_len).map_err(|_| "bad record header")?;
    let mut types = Vec::new();
    while at < header_len {
        let (t, n) = varint(payload.get(at..).ok_or("record header cut")?).ok_or("cut")?;
        types.push(t);
        at += n;
    }
    let mut body = payload.get(header_len..).ok_or("record body cut")?;
    let mut values = Vec::with_capacity(types.len());
    for t in types {
        let len = match t {
            0 | 8 | 9 => 0,
            1..=4 => t as usize,
            5 => 6,
            6 | 7 => 8,
            n if n >= 12 => ((n - 12) / 2) as usize,
            n => return Err(format!("reserved serial type {n}")),
        };
        let bytes = body.get(..len).ok_or("record value cut")?;
        body = &body[len..];
        let int = || {
            let mut v = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
                -1i64
            } else {
                0
            };
            for &b in bytes {
                v = (v << 8) | i64::from(b);
            }
            v
        };
        values.push(match t {
            0 => Value::Null,
            1..=6 => Value::Int(int()),
            7 => Value::Float(f64::from_bits(int() as u64)),
            8 => Value::Int(0),
            9 => Value::Int(1),
            n if n % 2 == 0 => Value::Blob(bytes),
            _ => Value::Text(bytes),
        });
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_records() {
        assert_eq!(varint(&[0x7f]), Some((127, 1)));
        assert_eq!(varint(&[0x81, 0x00]), Some((128, 2)));
        // header 3 bytes: int8, text of 2 bytes
        let rec = [3, 1, 17, 0xfe, b'h', b'i'];
        assert_eq!(record(&rec).unwrap(), [Value::Int(-2), Value::Text(b"hi")]);
        assert!(Database::open(b"not sqlite").is_err());
    }
}
