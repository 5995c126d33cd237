//! `cargo bench --bench fanout`: what one `io.emit` to many clients costs, on our lesson server
//! (`realtime-tutor serve 3`) and on Node's socket.io running the same lesson, measured with the
//! same lean Rust clients.
//!
//! ```text
//! cargo bench --bench fanout                       # 1,000 and 10,000 clients, both servers
//! cargo bench --bench fanout -- --clients 1000 --messages 100 --client-processes 2
//! ```
//!
//! Flags (after `--`): `--clients N[,N…]` (default `1000,10000`), `--messages M` (default 100,
//! under the 128 packets a socket's buffer holds on our server, so a burst loses nothing),
//! `--client-processes K` (default 1: the receivers spread over K processes), `--servers
//! ours,node` (default both). Node's server needs `node` and `tests/node/node_modules`
//! (`npm ci` in `tests/node`).
//!
//! It is a benchmark, not a test: nothing it prints is asserted, and every figure varies with
//! what else the machine is doing. Every wait is bounded, and a wait that runs out says what it
//! was waiting for.

mod client;
mod lines;
mod proc;
mod receivers;
mod report;
mod run;
mod server;

use server::Kind;

/// What to measure, from the command line.
struct Plan {
    clients: Vec<usize>,
    messages: usize,
    processes: usize,
    servers: Vec<Kind>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    // The hidden mode in which this program is one of the receivers processes.
    if let [flag, base, clients, messages, ..] = &args[..]
        && flag == "--receivers"
    {
        let (Ok(clients), Ok(messages)) = (clients.parse(), messages.parse()) else {
            println!("failed bad arguments: {args:?}");
            std::process::exit(2);
        };
        if let Err(why) = runtime.block_on(receivers::run(base.clone(), clients, messages)) {
            println!("failed {why}");
            std::process::exit(1);
        }
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --all-targets` (the test suite's command) runs
    // this program too, without it. A benchmark of minutes has no place in the suite: there it
    // only proves it builds.
    if !args.iter().any(|a| a == "--bench") {
        println!("fanout is a benchmark: run it with `cargo bench --bench fanout`");
        return;
    }
    let plan = match parse(&args) {
        Ok(plan) => plan,
        Err(why) => {
            eprintln!("fanout: {why}");
            std::process::exit(2);
        }
    };
    std::process::exit(runtime.block_on(bench(plan)));
}

fn parse(args: &[String]) -> Result<Plan, String> {
    let mut plan = Plan {
        clients: vec![1000, 10_000],
        messages: 100,
        processes: 1,
        servers: vec![Kind::Ours, Kind::Node],
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        // `cargo bench` passes `--bench` to every benchmark program.
        if flag == "--bench" {
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| match v.replace('_', "").parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{flag}: {v:?} is not a positive number")),
        };
        match flag.as_str() {
            "--clients" => plan.clients = value.split(',').map(number).collect::<Result<_, _>>()?,
            "--messages" => plan.messages = number(value)?,
            "--client-processes" => plan.processes = number(value)?,
            "--servers" => {
                plan.servers = value
                    .split(',')
                    .map(|s| match s {
                        "ours" => Ok(Kind::Ours),
                        "node" => Ok(Kind::Node),
                        _ => Err(format!("--servers: {s:?} is neither ours nor node")),
                    })
                    .collect::<Result<_, _>>()?
            }
            _ => return Err(format!("unknown flag {flag} (see benches/fanout/main.rs)")),
        }
    }
    Ok(plan)
}

/// Runs every measurement of the plan and prints the table; returns the exit status.
async fn bench(plan: Plan) -> i32 {
    let limit = proc::raise_open_files();
    // Every client is a descriptor in the server (all N of them) and one in a receivers
    // process; both inherit `limit`. A few dozen more go to the listener, pipes and runtime.
    let most = plan.clients.iter().max().copied().unwrap_or(0);
    if (most as u64) + 64 > limit {
        eprintln!(
            "fanout: {most} clients need {most} open files in the server, and the hard limit\n\
             on open files is {limit}: raise it (`ulimit -Hn`, as root) or measure fewer."
        );
        return 1;
    }
    eprintln!(
        "open-file limit {limit}; {} messages per run; {} receivers process(es)",
        plan.messages, plan.processes
    );
    let (mut all, mut status) = (Vec::new(), 0);
    'plan: for &clients in &plan.clients {
        for &kind in &plan.servers {
            eprintln!("measuring {} with {clients} clients…", kind.name());
            match run::measure(kind, clients, plan.messages, plan.processes).await {
                Ok(figures) => all.push(figures),
                Err(why) => {
                    // What was measured so far is still printed.
                    eprintln!("fanout: {} with {clients} clients: {why}", kind.name());
                    status = 1;
                    break 'plan;
                }
            }
        }
    }
    print!("{}", report::table(&all));
    status
}
