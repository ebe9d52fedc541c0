//! The filesystem as a tree of sizes, for the treemap and the searchable file tree of
//! `pare xray --html`: every directory's size is the sum of what is below it, and its
//! layer is the one that put the most bytes there (what the treemap colours it by).
//!
//! A big image has hundreds of thousands of paths; a page that lists them all is too
//! heavy to open. [`size_tree`] keeps the largest entries up to a budget, chosen
//! top-down by size, and folds the rest of each directory into one "more" entry, so
//! every directory still adds up.

use std::collections::{BinaryHeap, HashMap};

use pare_image::{EntryKind, FileIndex};
use serde::ser::{Serialize, SerializeSeq, Serializer};

/// What a tree entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeKind {
    Dir,
    File,
    Symlink,
    /// Entries of a directory left out for the budget, added up.
    More,
}

/// One entry: a directory, a file, a link, or what was left out of a directory.
#[derive(Clone, Debug)]
pub struct TreeNode {
    pub name: String,
    pub kind: TreeKind,
    /// Bytes of the file, or of everything below the directory.
    pub bytes: u64,
    /// Files below (1 for a file).
    pub files: u64,
    /// The layer (0-based) that provides the file, or most of the directory's bytes.
    pub layer: usize,
    pub children: Vec<TreeNode>,
}

/// The tree and how much of the image it shows.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SizeTree {
    pub root: TreeNode,
    /// Entries (files, links, directories) in the image, and in the tree.
    pub entries: usize,
    pub shown: usize,
}

impl SizeTree {
    /// Whether entries were folded away for the budget.
    pub fn capped(&self) -> bool {
        self.shown < self.entries
    }
}

/// Compact for the page: `[name, kind, bytes, files, layer, children?]`, kind one
/// of `d f l m`.
impl Serialize for TreeNode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let has_children = !self.children.is_empty();
        let mut seq = s.serialize_seq(Some(if has_children { 6 } else { 5 }))?;
        seq.serialize_element(&self.name)?;
        seq.serialize_element(match self.kind {
            TreeKind::Dir => "d",
            TreeKind::File => "f",
            TreeKind::Symlink => "l",
            TreeKind::More => "m",
        })?;
        seq.serialize_element(&self.bytes)?;
        seq.serialize_element(&self.files)?;
        seq.serialize_element(&self.layer)?;
        if has_children {
            seq.serialize_element(&self.children)?;
        }
        seq.end()
    }
}

/// An entry while the tree is built: children by index into the arena.
struct Slot {
    name: String,
    kind: TreeKind,
    bytes: u64,
    files: u64,
    /// Bytes per layer below (for directories), to find the dominant one.
    layers: HashMap<usize, u64>,
    layer: usize,
    children: Vec<usize>,
}

/// The tree of `index`, at most `budget` entries (at least the root's children).
pub fn size_tree(index: &FileIndex, budget: usize) -> SizeTree {
    let mut arena = vec![slot("/", TreeKind::Dir, 0, 0)];
    let mut ids: HashMap<&str, usize> = HashMap::from([("/", 0)]);
    // BTreeMap order puts `/a` before `/a-b` before `/a/b`, so parents may come after
    // a sibling with a longer name: look parents up (and make them) by path.
    for (path, node) in &index.nodes {
        if path == "/" {
            continue;
        }
        let id = slot_for(&mut arena, &mut ids, path);
        let s = &mut arena[id];
        s.kind = match node.kind {
            EntryKind::Dir => TreeKind::Dir,
            EntryKind::Symlink => TreeKind::Symlink,
            _ => TreeKind::File,
        };
        s.layer = node.layer;
        if s.kind != TreeKind::Dir {
            s.bytes = node.size;
            s.files = 1;
            s.layers.insert(node.layer, node.size);
        }
    }
    let entries = arena.len() - 1;
    add_up(&mut arena, 0);
    let chosen = choose(&arena, budget.max(arena[0].children.len()));
    let root = build(&arena, 0, &chosen);
    let shown = count(&root) - 1;
    SizeTree {
        root,
        entries,
        shown: shown.min(entries),
    }
}

fn slot(name: &str, kind: TreeKind, bytes: u64, layer: usize) -> Slot {
    Slot {
        name: name.to_owned(),
        kind,
        bytes,
        files: 0,
        layers: HashMap::new(),
        layer,
        children: Vec::new(),
    }
}

/// The arena index of `path`, made (with its parents) if new.
fn slot_for<'a>(arena: &mut Vec<Slot>, ids: &mut HashMap<&'a str, usize>, path: &'a str) -> usize {
    if let Some(id) = ids.get(path) {
        return *id;
    }
    let (parent_path, name) = match path.rfind('/') {
        Some(0) => ("/", &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("/", path),
    };
    let parent = slot_for(arena, ids, parent_path);
    let id = arena.len();
    arena.push(slot(name, TreeKind::Dir, 0, 0));
    arena[parent].children.push(id);
    ids.insert(path, id);
    id
}

/// Sums sizes, file counts and per-layer bytes bottom-up; sorts children largest first.
fn add_up(arena: &mut [Slot], id: usize) {
    let children = std::mem::take(&mut arena[id].children);
    for &c in &children {
        add_up(arena, c);
    }
    if arena[id].kind == TreeKind::Dir {
        let mut layers: HashMap<usize, u64> = HashMap::new();
        let (mut bytes, mut files) = (0, 0);
        for &c in &children {
            bytes += arena[c].bytes;
            files += arena[c].files;
            for (l, b) in &arena[c].layers {
                *layers.entry(*l).or_default() += b;
            }
        }
        let slot = &mut arena[id];
        slot.bytes = bytes;
        slot.files = files;
        if let Some((l, _)) = layers
            .iter()
            .max_by_key(|(l, b)| (**b, std::cmp::Reverse(**l)))
        {
            slot.layer = *l;
        }
        slot.layers = layers;
    }
    let mut children = children;
    children.sort_by(|a, b| {
        arena[*b]
            .bytes
            .cmp(&arena[*a].bytes)
            .then_with(|| arena[*a].name.cmp(&arena[*b].name))
    });
    arena[id].children = children;
}

/// The entries to show: the largest first, a directory's children only once it is
/// shown, until `budget` entries are.
fn choose(arena: &[Slot], budget: usize) -> Vec<bool> {
    let mut chosen = vec![false; arena.len()];
    chosen[0] = true;
    let mut heap: BinaryHeap<(u64, std::cmp::Reverse<usize>)> = arena[0]
        .children
        .iter()
        .map(|&c| (arena[c].bytes, std::cmp::Reverse(c)))
        .collect();
    let mut shown = 0;
    while let Some((_, std::cmp::Reverse(id))) = heap.pop() {
        if shown >= budget {
            break;
        }
        chosen[id] = true;
        shown += 1;
        heap.extend(
            arena[id]
                .children
                .iter()
                .map(|&c| (arena[c].bytes, std::cmp::Reverse(c))),
        );
    }
    chosen
}

fn build(arena: &[Slot], id: usize, chosen: &[bool]) -> TreeNode {
    let s = &arena[id];
    let mut children: Vec<TreeNode> = Vec::new();
    let mut more = TreeNode {
        name: String::new(),
        kind: TreeKind::More,
        bytes: 0,
        files: 0,
        layer: s.layer,
        children: Vec::new(),
    };
    let mut left_out = 0;
    for &c in &s.children {
        if chosen[c] {
            children.push(build(arena, c, chosen));
        } else {
            left_out += 1;
            more.bytes += arena[c].bytes;
            more.files += arena[c].files;
        }
    }
    if left_out > 0 {
        more.name = format!("{left_out} more");
        children.push(more);
    }
    TreeNode {
        name: s.name.clone(),
        kind: s.kind,
        bytes: s.bytes,
        files: s.files,
        layer: s.layer,
        children,
    }
}

fn count(node: &TreeNode) -> usize {
    1 + node
        .children
        .iter()
        .filter(|c| c.kind != TreeKind::More)
        .map(count)
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pare_image::testutil::{TarItem, parsed_layer as layer};

    fn index() -> FileIndex {
        FileIndex::build([
            layer(&[
                TarItem::dir("usr/"),
                TarItem::dir("usr/lib/"),
                TarItem::file("usr/lib/big", &[1; 1000], 0o644),
                TarItem::file("usr/lib/small", &[2; 10], 0o644),
                TarItem::file("usr/lib-extra", &[3; 5], 0o644),
                TarItem::symlink("lib", "usr/lib"),
            ]),
            layer(&[
                TarItem::dir("app/"),
                TarItem::file("app/a", &[4; 300], 0o644),
                TarItem::file("app/b", &[5; 200], 0o644),
                TarItem::file("usr/lib/mid", &[6; 100], 0o644),
            ]),
        ])
    }

    fn find<'a>(node: &'a TreeNode, name: &str) -> &'a TreeNode {
        node.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no {name} in {node:?}"))
    }

    #[test]
    fn sizes_add_up_and_layers_dominate() {
        let tree = size_tree(&index(), 100);
        assert!(!tree.capped());
        assert_eq!(tree.root.bytes, 1000 + 10 + 5 + 300 + 200 + 100);
        assert_eq!(tree.root.files, 7);
        let usr = find(&tree.root, "usr");
        assert_eq!(usr.bytes, 1115);
        assert_eq!(usr.layer, 0);
        assert_eq!(find(usr, "lib").children[0].name, "big");
        assert_eq!(find(&tree.root, "app").layer, 1);
        assert_eq!(find(&tree.root, "lib").kind, TreeKind::Symlink);
        assert_eq!(tree.root.children[0].name, "usr");
    }

    #[test]
    fn a_budget_folds_the_smallest_away_and_keeps_totals() {
        let tree = size_tree(&index(), 4);
        assert!(tree.capped());
        assert_eq!(tree.shown, 4);
        assert_eq!(tree.root.bytes, 1615);
        let usr = find(&tree.root, "usr");
        let lib = find(usr, "lib");
        // usr, app, usr/lib, usr/lib/big are the four largest.
        assert_eq!(lib.children[0].name, "big");
        let more = lib.children.last().unwrap();
        assert_eq!(
            (more.kind, more.bytes, more.files),
            (TreeKind::More, 110, 2)
        );
        let json = serde_json::to_string(&tree.root).unwrap();
        assert!(
            json.starts_with(r#"["/","d",1615,7,0,[["usr","d",1115,"#),
            "{json}"
        );
    }
}
