//! The fixed upstream: nginx on loopback answering the recorded OpenAI chat
//! completion and stream from `providers/openai/tests/data` as static files,
//! so it costs the same whoever calls it; and a second nginx as a plain
//! reverse proxy in front of it, the reference for what a proxy that parses
//! nothing costs on the machine.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use super::tools::{ChildGuard, find_binary, wait_ready};

/// An nginx process, stopped when dropped.
pub(super) struct Nginx {
    /// Where it listens.
    pub(super) addr: SocketAddr,
    _process: ChildGuard,
}

impl Nginx {
    /// nginx serving the canned answers on a free port: the recorded chat
    /// completion at `/v1/chat/completions`, the recorded stream at
    /// `/stream/v1/chat/completions`, `/healthz`; ready when it returns.
    pub(super) fn start_upstream(root: &Path, work: &Path) -> anyhow::Result<Nginx> {
        let port = super::tools::free_port()?;
        let data = root.join("providers/openai/tests/data");
        let chat = std::fs::read_to_string(data.join("chat_response.json"))?;
        let stream = std::fs::read_to_string(data.join("chat_stream_text.sse"))?;
        // Canned answers are static files; `error_page 405 =200` lets the
        // static module answer POSTs (nginx's `return` caps a string at 4 KiB).
        let www = work.join("www");
        let models = std::fs::read_to_string(data.join("models_list.json"))?;
        for (path, body) in [
            ("v1/chat/completions", &chat),
            ("stream/v1/chat/completions", &stream),
            ("v1/models", &models),
            ("stream/v1/models", &models),
        ] {
            let file = www.join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&file, body)?;
        }
        let conf = work.join("nginx.conf");
        let dir = work.display();
        std::fs::write(
            &conf,
            format!(
                r#"# Written by cargo xtask bench-load: a fixed, fast OpenAI-shaped upstream.
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/nginx-body;
  keepalive_requests 1000000;
  open_file_cache max=16;
  root {dir}/www;
  server {{
    listen 127.0.0.1:{port};
    location = /healthz {{ return 200 "ok"; }}
    location ~ /models$ {{ default_type application/json; }}
    # The recorded chat completion (providers/openai/tests/data/chat_response.json).
    location = /v1/chat/completions {{
      default_type application/json;
      error_page 405 =200 $uri;
    }}
    # The recorded stream (providers/openai/tests/data/chat_stream_text.sse).
    location = /stream/v1/chat/completions {{
      default_type text/event-stream;
      error_page 405 =200 $uri;
    }}
  }}
}}
"#
            ),
        )?;
        Self::spawn(work, &conf, port).context("nginx (the upstream) did not start")
    }

    /// A second nginx, proxying to the first with keep-alive: the reference
    /// for what a proxy that parses nothing costs on this machine.
    pub(super) fn start_proxy(work: &Path, upstream: SocketAddr) -> anyhow::Result<Nginx> {
        let port = super::tools::free_port()?;
        let conf = work.join("nginx-proxy.conf");
        let dir = work.display();
        std::fs::write(
            &conf,
            format!(
                r#"# Written by cargo xtask bench-load: nginx as a plain reverse proxy (reference).
worker_processes 1;
daemon off;
pid {dir}/nginx-proxy.pid;
error_log {dir}/nginx-proxy-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/nginx-proxy-body;
  proxy_temp_path {dir}/nginx-proxy-temp;
  keepalive_requests 1000000;
  upstream up {{ server {upstream}; keepalive 64; keepalive_requests 1000000; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }}
  }}
}}
"#
            ),
        )?;
        Self::spawn(work, &conf, port).context("the reference nginx proxy did not start")
    }

    fn spawn(work: &Path, conf: &Path, port: u16) -> anyhow::Result<Nginx> {
        let nginx = find_binary("nginx").context("nginx not found")?;
        let child = Command::new(nginx)
            .arg("-p")
            .arg(work)
            .arg("-c")
            .arg(conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start nginx")?;
        let nginx = Nginx {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            _process: ChildGuard(child),
        };
        wait_ready(nginx.addr, "/healthz", Duration::from_secs(10))?;
        Ok(nginx)
    }
}
