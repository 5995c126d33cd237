//! `completions SHELL` and `man`: files for the shell and for `man`, generated from the same
//! clap definition that parses the command line, so they can never disagree with it.
//!
//! Both print to standard output, and the user puts the text where their system looks (the
//! README and the book's reference give the lines). Writing into system folders ourselves
//! would need to guess them, and often root.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::Man;
use roff::{Roff, bold, roman};

use super::Cli;

/// The name the scripts and the page complete and describe: the installed binary's.
const BIN: &str = "realtime-tutor";

/// Where each shell looks for a completion script (`completions --help`). Each line is a
/// whole command, kept under 80 columns where the path allows.
pub const INSTALL_COMPLETIONS: &str = "\
Install it where your shell looks, for example:
  bash  realtime-tutor completions bash \\
          > ~/.local/share/bash-completion/completions/realtime-tutor
  zsh   realtime-tutor completions zsh > ~/.zfunc/_realtime-tutor
        (with `fpath+=~/.zfunc` before `compinit` in ~/.zshrc)
  fish  realtime-tutor completions fish \\
          > ~/.config/fish/completions/realtime-tutor.fish
Then open a new shell.";

/// How to read or install the page (`man --help`).
pub const INSTALL_MAN: &str = "\
Read it now:  realtime-tutor man | man -l -
Install it:   realtime-tutor man > ~/.local/share/man/man1/realtime-tutor.1";

/// `realtime-tutor completions SHELL`: the completion script for one shell.
pub fn completions(shell: Shell) -> anyhow::Result<i32> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    if shell == Shell::Bash {
        // clap_complete 4.6's bash script names the state after `realtime-tutor lesson` two
        // ways when the binary's name has a hyphen: the loop that reads the words arrives at
        // `realtime__tutor__subcmd__lesson`, the case that completes it is labelled
        // `realtime__subcmd__tutor__subcmd__lesson`, so nothing after a command ever completed
        // (clap issue 6421). One spelling makes them meet; once fixed upstream this finds nothing.
        script = script.replace("realtime__subcmd__tutor", "realtime__tutor");
    }
    out!("{script}")?;
    Ok(0)
}

/// `realtime-tutor man`: one manual page for the whole tool, in roff.
pub fn man() -> anyhow::Result<i32> {
    out!("{}", page()?)?;
    Ok(0)
}

/// The lines every roff fragment of clap_mangen starts with (a quote character's definition):
/// the page needs them once, at its top.
const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// The page: clap_mangen's title, NAME and SYNOPSIS for the tool, our DESCRIPTION, then each
/// command with its own synopsis, description and options (clap_mangen would point to one page
/// per command, `realtime-tutor-lesson(1)`, which a single page on stdout cannot provide), then
/// the exit statuses and the environment, which only prose can say.
fn page() -> std::io::Result<String> {
    let mut cmd = Cli::command().bin_name(BIN);
    cmd.build();
    let mut w = Vec::new();
    let man = Man::new(cmd.clone());
    man.render_title(&mut w)?;
    man.render_name_section(&mut w)?;
    man.render_synopsis_section(&mut w)?;
    let mut text = Roff::new();
    text.control("SH", ["DESCRIPTION"]);
    for paragraph in DESCRIPTION {
        text.control("PP", []).text([roman(*paragraph)]);
    }
    text.control("SH", ["COMMANDS"]);
    text.to_writer(&mut w)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = sub.get_bin_name().unwrap_or(sub.get_name()).to_owned();
        let mut heading = Roff::new();
        heading.control("SS", [name.as_str()]);
        heading.to_writer(&mut w)?;
        let man = Man::new(sub.clone());
        // The sub-sections keep clap_mangen's rendering, under this page's own headings.
        for (render, title) in [
            (Man::render_synopsis_section as Renderer, "SYNOPSIS"),
            (Man::render_description_section, "DESCRIPTION"),
            (Man::render_options_section, "OPTIONS"),
        ] {
            let mut part = Vec::new();
            render(&man, &mut part)?;
            let part = String::from_utf8_lossy(&part);
            w.extend(part.replacen(&format!(".SH {title}\n"), ".PP\n", 1).bytes());
        }
    }
    let mut tail = Roff::new();
    tail.control("SH", ["EXIT STATUS"]);
    for (status, meaning) in super::EXIT_STATUSES {
        tail.control("TP", []).text([bold(status.to_string())]);
        tail.text([roman(*meaning)]);
    }
    tail.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in ENVIRONMENT {
        tail.control("TP", []).text([bold(*name)]);
        tail.text([roman(*meaning)]);
    }
    tail.control("SH", ["SEE ALSO"]);
    tail.text([roman(SEE_ALSO)]);
    tail.to_writer(&mut w)?;
    man.render_version_section(&mut w)?;
    let page = String::from_utf8_lossy(&w).replace(PREAMBLE, "");
    Ok(format!("{PREAMBLE}{page}"))
}

/// The DESCRIPTION section's paragraphs.
const DESCRIPTION: &[&str] = &[
    "realtime-tutor runs Socket.IO lessons live: each stage starts a real server on \
     127.0.0.1, connects simulated clients that speak the real protocol, and prints who \
     received what, next to the Node.js code being taught and the Rust code that is running.",
    "Start with realtime-tutor alone: on a terminal it asks you to predict what each key step \
     does, runs it, and picks up where you left off next time. realtime-tutor tour shows \
     everything without questions; realtime-tutor list shows the lessons, numbered as \
     lesson N and lesson N.K take them.",
];

/// The SEE ALSO section.
const SEE_ALSO: &str = "The book in the source repository (book/), which walks through every \
    stage with its real trace and ends with a reference of every command and of the JSON format.";

type Renderer = fn(&Man, &mut dyn Write) -> std::io::Result<()>;

/// The environment variables the tutor reads, for the page's ENVIRONMENT section.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "REALTIME_TUTOR_HOME",
        "The folder that keeps progress.json (your finished stages and prediction scores). \
         Without it, the platform's state folder: ~/.local/state/realtime-tutor on Linux.",
    ),
    (
        "NO_COLOR, CLICOLOR, CLICOLOR_FORCE",
        "Whether to colour the text, when --color is auto (the default).",
    ),
    (
        "PATH",
        "Where the tutor looks for redis-server, which lesson 7 starts for its Redis stages.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_describes_every_command_once() {
        let page = page().unwrap();
        for sub in ["list", "lesson", "tour", "check", "serve", "completions", "man"] {
            let heading = format!(".SS \"realtime-tutor {sub}\"");
            assert_eq!(page.matches(&heading).count(), 1, "{heading} in:\n{page}");
        }
        assert!(!page.contains("realtime-tutor-lesson(1)"), "{page}");
        assert!(page.contains(".SH \"EXIT STATUS\""), "{page}");
        assert_eq!(page.matches(PREAMBLE).count(), 1, "{page}");
        assert!(page.starts_with(PREAMBLE), "{page}");
    }
}
