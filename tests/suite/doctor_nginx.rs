//! `doctor` through a real nginx (Debian's `nginx-light`), started here with a temporary
//! configuration and prefix folder: (a) a proxy that does not forward `Upgrade`, (b) two Node
//! servers behind round robin without sticky sessions.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::process::Server;
use crate::doctor::{ORIGIN, doctor, node_deployment};

/// Where Debian puts nginx.
const NGINX: &str = "/usr/sbin/nginx";

/// A private nginx in front of some upstream servers, stopped (killed and reaped) when dropped.
struct Nginx {
    child: Child,
    url: String,
    _prefix: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx's configuration: one process in the foreground, every file in `prefix` (its temporary
/// folders too, so it needs no write access to the system's), and `location` proxying to the
/// upstream servers, in round robin.
fn config(prefix: &Path, port: u16, upstreams: &[&Server], location: &str) -> String {
    let servers: String = upstreams
        .iter()
        .map(|s| format!("    server {};\n", s.url.trim_start_matches("http://")))
        .collect();
    let p = prefix.display();
    format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {p}/nginx.pid;\n\
         error_log stderr warn;\nevents {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {p}/body;\n  proxy_temp_path {p}/proxy;\n\
         fastcgi_temp_path {p}/fastcgi;\n  uwsgi_temp_path {p}/uwsgi;\n  scgi_temp_path {p}/scgi;\n\
         upstream app {{\n{servers}  }}\n\
         server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://app;\n{location}    }}\n  }}\n}}\n"
    )
}

impl Nginx {
    /// Starts nginx on a random high port. nginx cannot bind port 0 and report it, so a port is
    /// picked at random, and another one tried when nginx says it is taken (a port seen free a
    /// moment ago may not be any more).
    fn start(upstreams: &[&Server], location: &str) -> Nginx {
        assert!(
            Path::new(NGINX).is_file(),
            "these tests need nginx: apt-get install -y nginx-light (scripts/test.sh does it)"
        );
        for _attempt in 0..10 {
            let prefix = tempfile::tempdir().expect("a temporary folder");
            let port = 20_000 + fastrand::u16(..40_000);
            let conf: PathBuf = prefix.path().join("nginx.conf");
            std::fs::write(&conf, config(prefix.path(), port, upstreams, location)).expect("the config");
            let mut child = Command::new(NGINX)
                .arg("-p")
                .arg(prefix.path())
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("nginx starts");
            // Ready once it accepts on its port; or it exits, and says why.
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(_status) = child.try_wait().expect("try_wait") {
                    let mut text = String::new();
                    use std::io::Read;
                    let _ = child.stderr.take().expect("stderr").read_to_string(&mut text);
                    if text.contains("Address already in use") {
                        break;
                    }
                    panic!("nginx did not start:\n{text}");
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Nginx {
                        child,
                        url: format!("http://127.0.0.1:{port}"),
                        _prefix: prefix,
                    };
                }
                assert!(Instant::now() < deadline, "nginx did not listen within 10 s");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("ten random ports were taken");
    }
}

/// The headers nginx needs to pass a WebSocket upgrade on (the fix the doctor names).
const FORWARD_UPGRADE: &str = "      proxy_http_version 1.1;\n      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection \"upgrade\";\n";

#[test]
fn a_proxy_that_drops_upgrade_is_named_and_the_fixed_one_is_healthy() {
    let node = node_deployment("healthy");
    let dropping = Nginx::start(&[&node], "      proxy_http_version 1.1;\n");
    let out = doctor(&[&dropping.url, "--origin", ORIGIN]);
    out.assert_problem(&[
        "✗ WebSocket: refused: HTTP 400 \"{\"code\":3,\"message\":\"Bad request\"}\"",
        "the request reached it as a plain GET, without Upgrade",
        "proxy_set_header Upgrade $http_upgrade;",
        "see it live: realtime-tutor lesson 1.3",
        "✓ sticky sessions",
    ]);
    assert!(!out.text().contains("allows only polling"), "{out}");
    drop(dropping);
    let forwarding = Nginx::start(&[&node], FORWARD_UPGRADE);
    doctor(&[&forwarding.url, "--origin", ORIGIN]).assert_healthy(&["✓ upgrade: 2probe answered 3probe"]);
}

#[test]
fn two_servers_in_round_robin_without_sticky_sessions_are_named() {
    let a = node_deployment("healthy");
    let b = node_deployment("healthy");
    let nginx = Nginx::start(&[&a, &b], FORWARD_UPGRADE);
    let out = doctor(&[&nginx.url]);
    out.assert_problem(&[
        "✗ sticky sessions: session 1: the CONNECT's POST got 400 \"Session ID unknown\": requests reach different servers",
        "enable sticky sessions in the load balancer",
        "see it live: realtime-tutor lesson 7.3",
        "- namespace: not known",
        "✗ upgrade: the WebSocket for the session was refused: HTTP 400 \"Session ID unknown\"",
        // A WebSocket alone needs no stickiness.
        "✓ WebSocket: opens",
    ]);
    let value: serde_json::Value =
        serde_json::from_str(doctor(&[&nginx.url, "--format", "json"]).stdout.trim())
            .expect("one JSON object");
    crate::json_schema::assert_doctor_fits(&value);
    // The upgrade's WebSocket also reached the other server: the same cause, named.
    let ids: Vec<(&str, &str)> = value["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["check"].as_str()?, c["finding"]["id"].as_str()?)))
        .collect();
    assert_eq!(
        ids,
        [("upgrade", "not-sticky"), ("sticky", "not-sticky")],
        "{value}"
    );
}
