//! `doctor URL`: the arguments, turned into [`crate::doctor::Options`], and the report printed.

use clap::Args;

use super::check_args::{masked, parse_path};
use super::{Format, UsageError};
use crate::doctor::{self, Options};
use crate::ui;

/// `doctor`'s options.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The server, as you would give it to io(): http://host[:port][/namespace][?query]. A query
    /// is sent with every request, as io() does, and never printed.
    #[arg(value_name = "URL")]
    pub url: String,
    /// The origin of the page that connects (e.g. https://app.example.com): checks CORS for it.
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,
    /// Where Socket.IO is mounted on the server (its `path` option).
    #[arg(long, default_value = "/socket.io/")]
    pub path: String,
    /// The namespace to connect to [default: the URL's path, or /].
    #[arg(long, value_name = "NSP")]
    pub namespace: Option<String>,
    /// The CONNECT packet's auth payload, as JSON: io(url, { auth: JSON }).
    #[arg(long, value_name = "JSON")]
    pub auth: Option<String>,
    /// Output format: a readable checklist, or one JSON object.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub color: colorchoice_clap::Color,
}

/// What `doctor` ends its help with: its exit statuses. (Its bounds are in its description,
/// which the man page shows too; a test holds them to [`crate::doctor`]'s constants.)
pub const DOCTOR_AFTER_HELP: &str = "\
Exit status: 0 nothing in the way of io() (warnings may be listed); 1 a
problem was found, or the server cannot be reached; 2 a usage error.";

/// `realtime-tutor doctor URL …`. Returns 0 when healthy, 1 when a check failed.
pub async fn doctor(args: DoctorArgs) -> anyhow::Result<i32> {
    args.color.write_global();
    let options = options(&args).map_err(UsageError)?;
    let report = doctor::diagnose(&options).await;
    match args.format {
        Format::Json => outln!("{}", crate::trace::json::to_string(&report.json())?)?,
        Format::Text => {
            out!("{}", ui::doctor_intro(&report, options.query.is_some()))?;
            out!("{}", ui::doctor_report(&report))?;
        }
    }
    Ok(if report.healthy() { 0 } else { 1 })
}

/// The URL as an error message quotes it: credentials masked ([`masked`]), and the query, which
/// may carry a token and is never printed, cut to `?…`.
fn quoted(url: &str) -> String {
    let shown = masked(url);
    match shown.find('?') {
        Some(at) => format!("{}?…", &shown[..at]),
        None => shown,
    }
}

/// Checks the arguments and builds the probe's options.
fn options(args: &DoctorArgs) -> Result<Options, String> {
    let shown = quoted(&args.url);
    let uri: axum::http::Uri = args
        .url
        .parse()
        .map_err(|e| format!("{shown:?} is not a URL ({e}); write it like http://127.0.0.1:3000"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(format!(
                "{shown:?}: https is not supported yet (the doctor speaks plain HTTP); probe the \
                 server behind TLS with http:// where you can reach it"
            ));
        }
        _ => {
            return Err(format!(
                "{shown:?}: write the URL with http://, like http://127.0.0.1:3000"
            ));
        }
    }
    let authority = uri
        .authority()
        .ok_or_else(|| format!("{shown:?} has no host; write it like http://127.0.0.1:3000"))?;
    if authority.as_str().contains('@') {
        return Err(format!(
            "{shown:?}: user names and passwords are not supported (io() sends none); give the server only"
        ));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = authority.port_u16().unwrap_or(80);
    if port == 0 {
        return Err(format!("{shown:?}: port 0 is not a port"));
    }
    let path = parse_path(&args.path)?;
    // io("http://host/admin") connects to the namespace /admin, as socket.io-client reads it.
    let namespace = match (&args.namespace, uri.path()) {
        (Some(nsp), _) => nsp.clone(),
        (None, "" | "/") => "/".to_owned(),
        (None, nsp) => nsp.trim_end_matches('/').to_owned(),
    };
    if !namespace.starts_with('/')
        || namespace.contains([',', '?', '#'])
        || namespace.chars().any(char::is_control)
    {
        return Err(format!(
            "--namespace {namespace:?} is not a namespace; write it like / or /admin"
        ));
    }
    let auth = match &args.auth {
        None => None,
        Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value @ serde_json::Value::Object(_)) => Some(value),
            Ok(_) => return Err("--auth must be a JSON object, like {\"token\":\"abc\"}".to_owned()),
            Err(e) => {
                return Err(format!(
                    "--auth is not JSON ({e}); write it like {{\"token\":\"abc\"}}"
                ));
            }
        },
    };
    if let Some(origin) = &args.origin {
        let ok = origin.parse::<axum::http::Uri>().is_ok_and(|u| {
            u.scheme().is_some()
                && u.authority().is_some()
                && matches!(u.path(), "" | "/")
                && u.query().is_none()
        });
        if !ok {
            return Err(format!(
                "--origin {:?} is not an origin; write it like https://app.example.com",
                masked(origin)
            ));
        }
    }
    let shown = format!("http://{authority}");
    Ok(Options {
        host,
        port,
        shown,
        path,
        query: uri.query().filter(|q| !q.is_empty()).map(str::to_owned),
        namespace,
        origin: args.origin.as_ref().map(|o| o.trim_end_matches('/').to_owned()),
        auth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_states_the_bounds_the_doctor_keeps() {
        use clap::CommandFactory;
        let mut cli = super::super::Cli::command();
        let help = cli
            .find_subcommand_mut("doctor")
            .expect("the doctor command")
            .render_long_help()
            .to_string();
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for stated in [
            format!("bounded to {} s", doctor::REQUEST_LIMIT.as_secs()),
            format!("{} KiB of body", doctor::probe::BODY_LIMIT / 1024),
            format!("the whole run to {} s", doctor::RUN_LIMIT.as_secs()),
            format!("{} polling sessions", doctor::STICKY_SESSIONS),
        ] {
            assert!(help.contains(&stated), "{stated:?} in:\n{help}");
        }
    }

    fn args(url: &str) -> DoctorArgs {
        DoctorArgs {
            url: url.to_owned(),
            origin: None,
            path: "/socket.io/".to_owned(),
            namespace: None,
            auth: None,
            format: Format::Text,
            color: colorchoice_clap::Color::default(),
        }
    }

    #[test]
    fn reads_the_url_as_io_does_and_never_echoes_credentials() {
        let o = options(&args("http://example.com:3000/admin?token=s3cret")).expect("a URL");
        assert_eq!((o.host.as_str(), o.port), ("example.com", 3000));
        assert_eq!(o.namespace, "/admin");
        assert_eq!(o.query.as_deref(), Some("token=s3cret"));
        assert!(!o.shown.contains("s3cret"), "{}", o.shown);
        let refused = options(&args("http://user:pa55@example.com/")).expect_err("credentials");
        assert!(!refused.contains("pa55"), "{refused}");
        // An error quotes the URL without its query, which may carry a token too.
        let refused = options(&args("http://user:pa55@example.com/?token=s3cret")).expect_err("credentials");
        assert!(
            !refused.contains("pa55") && !refused.contains("s3cret"),
            "{refused}"
        );
        assert!(options(&args("https://example.com")).is_err());
        let v6 = options(&args("http://[::1]:4000")).expect("IPv6");
        assert_eq!(
            (v6.host.as_str(), v6.port, v6.namespace.as_str()),
            ("::1", 4000, "/")
        );
    }
}
