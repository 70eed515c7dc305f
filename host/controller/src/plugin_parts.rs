//! Components too large for one ConfigMap (1 MiB): a Python or JavaScript component is tens of
//! MiB. `waxwing plugin package` gzips the wasm and splits it over part ConfigMaps; the
//! controller puts the parts back together for the `configMaps:NAME` source.
//!
//! Each part is a ConfigMap in the controller's namespace labelled
//! `waxwing.io/plugin-wasm: NAME`, annotated `waxwing.io/part: "<i>/<n>"` (1-based) and
//! `waxwing.io/sha256: <sha256 of the uncompressed wasm>`, with its slice of the gzip stream in
//! binaryData `part`. Parts are applied one by one, so while a new version is being applied the
//! controller sees old and new parts side by side: the count and sha256 every part repeats let
//! it refuse such a mix instead of loading it, until the set is whole again.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::ObjectMeta;
use sha2::{Digest as _, Sha256};

/// The label naming the component a part belongs to (the `NAME` of `configMaps:NAME`).
pub const NAME_LABEL: &str = "waxwing.io/plugin-wasm";
const PART_ANNOTATION: &str = "waxwing.io/part";
const SHA256_ANNOTATION: &str = "waxwing.io/sha256";
const PART_KEY: &str = "part";

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
/// A part's bytes: well under the 1 MiB a ConfigMap may hold, with room for the metadata.
pub const MAX_PART_BYTES: usize = 768 * KIB;
/// The most a component may gunzip to: far above any real plugin, and a bound on what a
/// corrupt or hostile gzip stream can make the controller allocate.
const MAX_WASM_BYTES: usize = 256 * MIB;

/// The lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Whether `name` can be both the label value and part of the ConfigMaps' names.
pub fn check_name(name: &str) -> Result<(), String> {
    let alphanumeric =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let fits = (1..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && alphanumeric(name.chars().next())
        && alphanumeric(name.chars().last());
    if fits {
        Ok(())
    } else {
        Err(format!(
            "{name:?} cannot name part ConfigMaps: use 1 to 63 lowercase letters, digits, '-' or \
             '.', starting and ending with a letter or digit"
        ))
    }
}

/// The part ConfigMaps of a component: `waxwing-plugin-NAME-<i>`, in order.
pub fn split(name: &str, namespace: &str, wasm: &[u8]) -> std::io::Result<Vec<ConfigMap>> {
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(wasm)?;
    let compressed = gzip.finish()?;
    let sha256 = sha256_hex(wasm);
    let chunks: Vec<&[u8]> = compressed.chunks(MAX_PART_BYTES).collect();
    let count = chunks.len();
    Ok(chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| ConfigMap {
            metadata: ObjectMeta {
                name: Some(format!("waxwing-plugin-{name}-{}", i + 1)),
                namespace: Some(namespace.to_string()),
                labels: Some(BTreeMap::from([
                    (NAME_LABEL.to_string(), name.to_string()),
                    (
                        "app.kubernetes.io/part-of".to_string(),
                        "waxwing".to_string(),
                    ),
                ])),
                annotations: Some(BTreeMap::from([
                    (PART_ANNOTATION.to_string(), format!("{}/{count}", i + 1)),
                    (SHA256_ANNOTATION.to_string(), sha256.clone()),
                ])),
                ..ObjectMeta::default()
            },
            binary_data: Some(BTreeMap::from([(
                PART_KEY.to_string(),
                ByteString(chunk.to_vec()),
            )])),
            ..ConfigMap::default()
        })
        .collect())
}

/// Every component the part ConfigMaps hold, by the name in their label: its wasm, or why
/// the parts do not make one.
pub fn assemble_all<'a>(
    parts: impl IntoIterator<Item = &'a ConfigMap>,
) -> BTreeMap<String, Result<Vec<u8>, String>> {
    let mut by_name: BTreeMap<&str, Vec<&ConfigMap>> = BTreeMap::new();
    for cm in parts {
        if let Some(name) = cm.metadata.labels.as_ref().and_then(|l| l.get(NAME_LABEL)) {
            by_name.entry(name).or_default().push(cm);
        }
    }
    by_name
        .into_iter()
        .map(|(name, parts)| (name.to_string(), assemble(name, &parts)))
        .collect()
}

/// One part as its ConfigMap describes it.
struct Part<'a> {
    configmap: &'a str,
    index: usize,
    count: usize,
    sha256: &'a str,
    bytes: &'a [u8],
}

impl<'a> Part<'a> {
    fn read(cm: &'a ConfigMap) -> Result<Part<'a>, String> {
        let configmap = cm.metadata.name.as_deref().unwrap_or_default();
        let annotation = |key: &str| {
            cm.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(key))
                .map(String::as_str)
                .ok_or_else(|| format!("ConfigMap {configmap} has no annotation {key}"))
        };
        let written = annotation(PART_ANNOTATION)?;
        let (index, count) = written
            .split_once('/')
            .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
            .filter(|(i, n)| (1..=*n).contains(i))
            .ok_or_else(|| {
                format!(
                    "ConfigMap {configmap} has {PART_ANNOTATION}: {written:?}, which is not I/N \
                     with 1 <= I <= N"
                )
            })?;
        let sha256 = annotation(SHA256_ANNOTATION)?;
        let bytes = cm
            .binary_data
            .as_ref()
            .and_then(|d| d.get(PART_KEY))
            .map(|b| b.0.as_slice())
            .ok_or_else(|| format!("ConfigMap {configmap} has no binaryData key {PART_KEY:?}"))?;
        Ok(Part {
            configmap,
            index,
            count,
            sha256,
            bytes,
        })
    }
}

/// The wasm of one component from its parts, checked whole and unmixed.
fn assemble(name: &str, configmaps: &[&ConfigMap]) -> Result<Vec<u8>, String> {
    let mut parts = configmaps
        .iter()
        .map(|cm| Part::read(cm))
        .collect::<Result<Vec<_>, _>>()?;
    parts.sort_by(|a, b| (a.index, a.configmap).cmp(&(b.index, b.configmap)));

    let builds: BTreeSet<(&str, usize)> = parts.iter().map(|p| (p.sha256, p.count)).collect();
    if builds.len() > 1 {
        let described: Vec<String> = builds
            .iter()
            .map(|&(sha256, count)| {
                let members: Vec<usize> = parts
                    .iter()
                    .filter(|p| p.sha256 == sha256 && p.count == count)
                    .map(|p| p.index)
                    .collect();
                format!(
                    "part {} of {count} of sha256:{}",
                    ranges(&members),
                    short(sha256)
                )
            })
            .collect();
        return Err(format!(
            "its parts belong to different builds: {}. Either a new version is being applied \
             and the rest of its parts are still to come, or parts of an older version are left \
             over: delete those",
            described.join("; ")
        ));
    }
    let Some(first) = parts.first() else {
        return Err(format!(
            "there are no ConfigMaps labelled {NAME_LABEL}={name}"
        ));
    };
    let (count, sha256) = (first.count, first.sha256.to_string());
    if let Some(pair) = parts.windows(2).find(|w| w[0].index == w[1].index) {
        return Err(format!(
            "ConfigMaps {} and {} are both part {}/{count}: delete the one that does not belong",
            pair[0].configmap, pair[1].configmap, pair[0].index
        ));
    }
    let missing: Vec<usize> = (1..=count)
        .filter(|i| !parts.iter().any(|p| p.index == *i))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "part {} of {count} (sha256:{}) is missing: apply every ConfigMap `waxwing plugin \
             package` printed",
            ranges(&missing),
            short(&sha256)
        ));
    }

    let compressed: Vec<u8> = parts.iter().flat_map(|p| p.bytes).copied().collect();
    let wasm = gunzip(&compressed, MAX_WASM_BYTES)?;
    let actual = sha256_hex(&wasm);
    if actual != sha256.to_ascii_lowercase() {
        return Err(format!(
            "its {count} parts make a wasm of sha256 {actual}, not the {sha256} they are \
             annotated with: package and apply it again"
        ));
    }
    Ok(wasm)
}

/// The gunzipped bytes, refused past `limit` bytes.
fn gunzip(compressed: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let mut wasm = Vec::new();
    GzDecoder::new(compressed)
        .take(limit as u64 + 1)
        .read_to_end(&mut wasm)
        .map_err(|e| format!("its parts, put together, are not a gzip stream: {e}"))?;
    if wasm.len() > limit {
        return Err(format!(
            "its parts gunzip to more than {} MiB, the most a plugin may be",
            limit / MIB
        ));
    }
    Ok(wasm)
}

/// Sorted part numbers as ranges: `1-3, 5`.
fn ranges(sorted: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &i in sorted {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == i => *end = i,
            _ => runs.push((i, i)),
        }
    }
    runs.iter()
        .map(|&(start, end)| match end - start {
            0 => start.to_string(),
            1 => format!("{start}, {end}"),
            _ => format!("{start}-{end}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first 12 hex digits of a sha256, enough to tell builds apart in a message.
fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that gzip poorly, so a few hundred KiB take several parts.
    fn incompressible(len: usize) -> Vec<u8> {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    }

    fn parts(wasm: &[u8]) -> Vec<ConfigMap> {
        split("freeze-window", "waxwing-system", wasm).expect("gzip in memory")
    }

    fn assembled(parts: &[ConfigMap]) -> Result<Vec<u8>, String> {
        let mut all = assemble_all(parts);
        assert_eq!(all.len(), 1, "one component");
        all.remove("freeze-window").expect("by its label")
    }

    fn annotate(cm: &mut ConfigMap, key: &str, value: &str) {
        cm.metadata
            .annotations
            .get_or_insert_default()
            .insert(key.to_string(), value.to_string());
    }

    #[test]
    fn split_parts_assemble_in_any_order() {
        let wasm = incompressible(2 * MAX_PART_BYTES + 1000);
        let mut split = parts(&wasm);
        assert_eq!(split.len(), 3);
        let first = &split[0];
        assert_eq!(
            first.metadata.name.as_deref(),
            Some("waxwing-plugin-freeze-window-1")
        );
        let annotations = first.metadata.annotations.as_ref().unwrap();
        assert_eq!(annotations[PART_ANNOTATION], "1/3");
        assert_eq!(annotations[SHA256_ANNOTATION], sha256_hex(&wasm));
        assert!(
            split
                .iter()
                .all(|cm| { cm.binary_data.as_ref().unwrap()[PART_KEY].0.len() <= MAX_PART_BYTES })
        );
        split.reverse();
        assert_eq!(assembled(&split), Ok(wasm));
    }

    #[test]
    fn a_small_component_is_one_part() {
        let wasm = b"\0asm small".repeat(100);
        let split = parts(&wasm);
        assert_eq!(split.len(), 1);
        assert_eq!(assembled(&split), Ok(wasm));
    }

    #[test]
    fn a_missing_part_is_named() {
        let mut split = parts(&incompressible(3 * MAX_PART_BYTES));
        split.remove(1);
        let err = assembled(&split).unwrap_err();
        assert!(err.starts_with("part 2 of 4 (sha256:"), "{err}");
    }

    #[test]
    fn parts_of_two_builds_are_not_mixed() {
        let old = parts(&incompressible(2 * MAX_PART_BYTES));
        let new = parts(&incompressible(MAX_PART_BYTES));
        // The new version (2 parts) replaced parts 1 and 2; part 3 of the old one is left.
        let mixed = vec![new[0].clone(), new[1].clone(), old[2].clone()];
        let err = assembled(&mixed).unwrap_err();
        assert!(
            err.starts_with("its parts belong to different builds: ")
                && err.contains("part 1, 2 of 2 of sha256:")
                && err.contains("part 3 of 3 of sha256:"),
            "{err}"
        );
    }

    #[test]
    fn the_same_part_twice_is_refused() {
        let split = parts(&incompressible(MAX_PART_BYTES));
        let mut twin = split[1].clone();
        twin.metadata.name = Some("copy".into());
        let err = assembled(&[split[0].clone(), split[1].clone(), twin]).unwrap_err();
        assert_eq!(
            err,
            "ConfigMaps copy and waxwing-plugin-freeze-window-2 are both part 2/2: delete the \
             one that does not belong"
        );
    }

    #[test]
    fn malformed_annotations_and_data_are_refused() {
        let good = parts(b"wasm");
        let mut bad_index = good.clone();
        annotate(&mut bad_index[0], PART_ANNOTATION, "2/1");
        let mut no_sha = good.clone();
        no_sha[0]
            .metadata
            .annotations
            .as_mut()
            .unwrap()
            .remove(SHA256_ANNOTATION);
        let mut no_data = good.clone();
        no_data[0].binary_data = None;
        for (broken, expected) in [
            (bad_index, "has waxwing.io/part: \"2/1\", which is not I/N"),
            (no_sha, "has no annotation waxwing.io/sha256"),
            (no_data, "has no binaryData key \"part\""),
        ] {
            let err = assembled(&broken).unwrap_err();
            assert!(
                err.starts_with("ConfigMap waxwing-plugin-freeze-window-1 ")
                    && err.contains(expected),
                "{err}"
            );
        }
    }

    #[test]
    fn a_wrong_sha256_annotation_is_refused() {
        let mut split = parts(b"wasm");
        annotate(&mut split[0], SHA256_ANNOTATION, &"0".repeat(64));
        let err = assembled(&split).unwrap_err();
        assert!(err.contains("not the 0000"), "{err}");
    }

    #[test]
    fn corrupt_gzip_is_refused() {
        let mut split = parts(b"wasm");
        split[0]
            .binary_data
            .as_mut()
            .unwrap()
            .get_mut(PART_KEY)
            .unwrap()
            .0[0] ^= 0xff;
        let err = assembled(&split).unwrap_err();
        assert!(err.contains("not a gzip stream"), "{err}");
    }

    #[test]
    fn gunzip_stops_at_the_limit() {
        let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
        gzip.write_all(&[0; 4096]).unwrap();
        let compressed = gzip.finish().unwrap();
        assert_eq!(gunzip(&compressed, 4096).map(|w| w.len()), Ok(4096));
        let err = gunzip(&compressed, 4095).unwrap_err();
        assert!(err.contains("gunzip to more than"), "{err}");
    }

    #[test]
    fn part_numbers_read_as_ranges() {
        assert_eq!(ranges(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7, 8");
        assert_eq!(ranges(&[4]), "4");
    }

    #[test]
    fn names_must_fit_a_label_and_a_configmap_name() {
        assert!(check_name("freeze-window").is_ok());
        assert!(check_name("v1.2").is_ok());
        for bad in ["", "Freeze", "-x", "x-", "a_b", &"a".repeat(64)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
