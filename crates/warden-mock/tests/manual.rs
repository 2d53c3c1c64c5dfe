//! `warden-mock`'s manual page is generated from its command line's own definitions.

#[test]
fn the_manual_page_describes_every_option() -> std::io::Result<()> {
    let command = warden_mock::cli::command();
    command.clone().debug_assert();
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    let page = String::from_utf8_lossy(&page);
    let title = page
        .lines()
        .find(|l| l.starts_with(".TH "))
        .unwrap_or_default();
    assert!(title.starts_with(".TH warden-mock 1"), "{title}");
    for option in ["bind", "port", "scenario", "state", "admin"] {
        assert!(page.contains(option), "the manual lacks --{option}");
    }
    Ok(())
}
