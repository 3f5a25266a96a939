//! The LMDB reader (our own code) on databases that LMDB itself wrote (through heed): the same
//! keys and values in the same order, from trees several levels deep, with values both inside
//! leaf pages and on overflow pages. Corrupt files are errors naming the file, never a crash.

use std::path::Path;

use dcgan::data::lmdb::Lmdb;

type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Writes `n` entries with LSUN-style keys; every seventh value is large enough for overflow
/// pages. Returns LMDB's own view: (key, value) in key order, and the tree's depth.
#[allow(unsafe_code)]
fn write_lmdb(dir: &Path, n: usize) -> (Entries, u32) {
    std::fs::create_dir_all(dir).unwrap();
    // SAFETY: a fresh environment in a temporary folder that nothing else opens.
    let env = unsafe { heed::EnvOpenOptions::new().map_size(64 << 20).open(dir) }.unwrap();
    let mut wtxn = env.write_txn().unwrap();
    let db: heed::Database<heed::types::Bytes, heed::types::Bytes> =
        env.create_database(&mut wtxn, None).unwrap();
    for i in 0..n as u64 {
        let key = format!("{:040x}", (i as u128) * 0x9e37_79b9_7f4a_7c15);
        let len = if i % 7 == 0 {
            3000 + (i as usize * 131) % 9000
        } else {
            1 + (i as usize * 37) % 700
        };
        let value: Vec<u8> = (0..len).map(|j| (i as usize * 31 + j * 7) as u8).collect();
        db.put(&mut wtxn, key.as_bytes(), &value).unwrap();
    }
    wtxn.commit().unwrap();
    let rtxn = env.read_txn().unwrap();
    let depth = db.stat(&rtxn).unwrap().depth;
    let entries = db
        .iter(&rtxn)
        .unwrap()
        .map(|e| {
            let (k, v) = e.unwrap();
            (k.to_vec(), v.to_vec())
        })
        .collect();
    (entries, depth)
}

fn open_err(dir: &Path) -> String {
    match Lmdb::open(dir) {
        Ok(_) => panic!("{} opened", dir.display()),
        Err(e) => e.to_string(),
    }
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The layout facts the corruptions below aim at: page size, the newer meta page's offset, and
/// the main tree's root page.
fn layout(bytes: &[u8]) -> (usize, usize, u64) {
    let page = u32::from_le_bytes(bytes[40..44].try_into().unwrap()) as usize;
    // Each meta is at offset 16 of its page; its transaction id at 16 + 128.
    let newer = if u64_at(bytes, page + 144) > u64_at(bytes, 144) {
        page
    } else {
        0
    };
    (page, newer, u64_at(bytes, newer + 16 + 112))
}

#[test]
fn reads_what_lmdb_wrote_key_for_key_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, depth) = write_lmdb(dir.path(), 3000);
    assert!(
        depth >= 3,
        "the tree should have two branch levels, has depth {depth}"
    );
    assert!(expected.iter().any(|(_, v)| v.len() > 4096));
    let db = Lmdb::open(dir.path()).unwrap();
    assert_eq!(dcgan::data::Dataset::len(&db), 3000);
    for (i, (k, v)) in expected.iter().enumerate() {
        assert_eq!(db.key(i), &k[..], "key {i}");
        assert_eq!(&db.raw(i).unwrap(), v, "value {i}");
    }
    // lock.mdb is not needed: the data file alone is read.
    std::fs::remove_file(dir.path().join("lock.mdb")).unwrap();
    assert_eq!(
        Lmdb::open(dir.path()).unwrap().raw(7).unwrap(),
        expected[7].1
    );
}

#[test]
fn corrupt_structures_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, depth) = write_lmdb(dir.path(), 400);
    assert!(depth >= 2);
    let data = dir.path().join("data.mdb");
    let good = std::fs::read(&data).unwrap();
    let (page, meta, root) = layout(&good);
    let corrupt = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = good.clone();
        edit(&mut bytes);
        std::fs::write(&data, &bytes).unwrap();
        open_err(dir.path())
    };
    let root_at = root as usize * page;
    let prefix = format!("{}: not a readable LMDB database (", data.display());

    // The root page's header names another page.
    let e = corrupt(&|b| b[root_at..root_at + 8].copy_from_slice(&7u64.to_le_bytes()));
    assert_eq!(e, format!("{prefix}page {root} says it is page 7)"));
    // The header's entry count disagrees with the tree.
    let e = corrupt(&|b| {
        let at = meta + 16 + 104;
        b[at..at + 8].copy_from_slice(&401u64.to_le_bytes())
    });
    assert_eq!(
        e,
        format!("{prefix}the tree holds 400 entries, its header says 401)")
    );
    // An absurd depth.
    let e = corrupt(&|b| b[meta + 16 + 78..meta + 16 + 80].copy_from_slice(&40u16.to_le_bytes()));
    assert_eq!(e, format!("{prefix}tree depth 40)"));
    // A branch whose first child is the root itself: the walk meets a branch where the next
    // level should be.
    let e = corrupt(&|b| {
        let node = root_at + u16::from_le_bytes([b[root_at + 16], b[root_at + 17]]) as usize;
        b[node..node + 2].copy_from_slice(&(root as u16).to_le_bytes());
        b[node + 2..node + 6].fill(0);
    });
    assert!(
        e.starts_with(&format!("{prefix}page {root} has flags 0x1 at level 1")),
        "{e}"
    );
    // A root beyond the file's last page.
    let e = corrupt(&|b| {
        let at = meta + 16 + 112;
        b[at..at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes())
    });
    assert!(
        e.starts_with(&format!("{prefix}page number 1099511627776 outside")),
        "{e}"
    );

    // A damaged overflow page fails its own item only.
    std::fs::write(&data, &good).unwrap();
    let db = Lmdb::open(dir.path()).unwrap();
    let first_overflow = (2..good.len() / page)
        .find(|&p| u16::from_le_bytes([good[p * page + 10], good[p * page + 11]]) & 4 != 0)
        .unwrap();
    let mut bytes = good.clone();
    bytes[first_overflow * page..first_overflow * page + 8].fill(0xee);
    std::fs::write(&data, &bytes).unwrap();
    let broken: Vec<usize> = (0..expected.len())
        .filter(|&i| db.raw(i).is_err())
        .collect();
    assert_eq!(broken.len(), 1, "{broken:?}");
    let e = db.raw(broken[0]).unwrap_err();
    assert!(
        e.message.contains(&format!(
            "page {first_overflow} is not the value's overflow page"
        )),
        "{}",
        e.message
    );
    assert!(
        expected[broken[0]].1.len() > 2000,
        "item {} is not on overflow pages",
        broken[0]
    );
}

/// Every 29th byte of the file inverted in turn (headers, node tables, keys, values, overflow
/// pages): each is either read or refused, never a crash or a hang.
#[test]
fn single_byte_corruptions_anywhere_never_crash() {
    let dir = tempfile::tempdir().unwrap();
    write_lmdb(dir.path(), 120);
    let data = dir.path().join("data.mdb");
    let good = std::fs::read(&data).unwrap();
    let (mut refused, mut items_refused) = (0, 0);
    for at in (0..good.len()).step_by(29) {
        let mut bytes = good.clone();
        bytes[at] ^= 0xff;
        std::fs::write(&data, &bytes).unwrap();
        match Lmdb::open(dir.path()) {
            Err(e) => {
                // data.mdb, or the folder when an older (empty) snapshot is what remains.
                assert!(
                    e.to_string().starts_with(&dir.path().display().to_string()),
                    "{e}"
                );
                refused += 1;
            }
            Ok(db) => {
                items_refused += (0..dcgan::data::Dataset::len(&db))
                    .filter(|&i| db.raw(i).is_err())
                    .count()
            }
        }
    }
    // Structural bytes are refused; the rest (mostly value bytes) read as other values.
    assert!(
        refused > 10 && items_refused > 0,
        "{refused} {items_refused}"
    );
}
