//! `--data`: a user's CSV file (plain or gzip, label in the last column)
//! loads into the same dataset and runs through the same benchmark code.

use dwcp_federated::bench::{Method, Setup, run};
use dwcp_federated::data::{Dataset, digits, load_csv};
use std::io::Write;

/// The first three digit classes as CSV text, features on the 0..16 scale.
fn csv_of_three_digits(d: &Dataset) -> String {
    let mut s = String::from("# three digit classes, label last\n");
    for i in (0..d.len()).filter(|&i| d.labels[i] < 3) {
        let row: Vec<String> = d.row(i).iter().map(|v| format!("{}", v * 16.0)).collect();
        s.push_str(&format!("{},{}\n", row.join(","), d.labels[i]));
    }
    s
}

fn csv_of_all_digits(d: &Dataset) -> String {
    (0..d.len())
        .map(|i| {
            let row: Vec<String> = d.row(i).iter().map(|v| format!("{}", v * 16.0)).collect();
            format!("{},{}\n", row.join(","), d.labels[i])
        })
        .collect()
}

fn load_csv_text(text: &str) -> Dataset {
    dwcp_federated::data::parse_csv(text).unwrap()
}

#[test]
fn plain_and_gzip_files_load_the_same_data_and_train() {
    let d = digits();
    let text = csv_of_three_digits(&d);
    let dir = std::env::temp_dir().join(format!("dwcp-fed-user-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join("three.csv");
    let gz = dir.join("three.csv.gz");
    std::fs::write(&plain, &text).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();

    let a = load_csv(&plain).unwrap();
    let b = load_csv(&gz).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        (a.len(), a.dim, a.classes),
        (d.histogram()[..3].iter().sum(), 64, 3)
    );
    assert_eq!((&a.x, &a.labels), (&b.x, &b.labels));
    assert!(load_csv(&dir.join("missing.csv")).is_err());

    // Scaling to unit range reproduces the vendored digits' division by 16.
    let mut all = load_csv_text(&csv_of_all_digits(&d));
    assert_eq!(all.scale_to_unit(), 16.0);
    assert_eq!((&all.x, &all.labels), (&d.x, &d.labels));
    let mut unit = all.clone();
    assert_eq!(unit.scale_to_unit(), 1.0);
    assert_eq!(unit.x, all.x);

    // Features are used as given (0..16 here); the benchmark still learns.
    let setup = Setup {
        clients: 4,
        rounds: 15,
        target: 0.9,
        ..Setup::digits()
    };
    let r = run(&a, &setup, &Method::dense(), 1).unwrap();
    assert!(r.final_accuracy > 0.9, "{}", r.final_accuracy);
}
