//! Realtime fan-out load client for `bench/fanout.sh`: opens N WebSocket subscribers to
//! `<ws base>/realtime/ws` (each subscribing to one collection), measures the server's
//! resident memory before and after (idle), then creates records through the HTTP API and
//! times how long each event takes to reach every subscriber. Prints one JSON summary.
//!
//! Usage: fanout <http base of the app API> <collection> <server pid> <connections> <events>

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

fn rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, api, collection, pid, conns, events] = args.as_slice() else {
        anyhow::bail!("usage: fanout <api base> <collection> <server pid> <connections> <events>");
    };
    let conns: usize = conns.parse()?;
    let events: usize = events.parse()?;
    let ws_url = format!("{}/realtime/ws", api.replacen("http", "ws", 1));
    let before = rss_kib(pid);
    let (tx, mut rx) = mpsc::unbounded_channel::<Instant>();
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<()>();
    let mut opened = 0usize;
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(256));
    for _ in 0..conns {
        let (url, tx, ready, sem) = (ws_url.clone(), tx.clone(), ready_tx.clone(), sem.clone());
        let sub = serde_json::json!({"type": "subscribe", "id": "s", "collections": [collection]});
        tokio::spawn(async move {
            let permit = sem.acquire_owned().await;
            let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&url).await else {
                return;
            };
            if ws.send(Message::text(sub.to_string())).await.is_err() {
                return;
            }
            drop(permit);
            let mut acked = false;
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Text(t) = m {
                    if !acked {
                        acked = true;
                        let _ = ready.send(());
                    } else if t.as_str().contains("\"type\":\"event\"") {
                        let _ = tx.send(Instant::now());
                    }
                }
            }
        });
    }
    drop(ready_tx);
    let deadline = Instant::now() + Duration::from_secs(120);
    while opened < conns && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(10), ready_rx.recv()).await {
            Ok(Some(())) => opened += 1,
            _ => break,
        }
    }
    // Idle for a moment, then the memory they hold.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    let client = reqwest::Client::new();
    let mut latencies = Vec::new();
    let mut delivered = 0usize;
    for n in 0..events {
        let body = serde_json::json!({"title": format!("fan-out {n}"), "description": "d",
            "vendor": "v", "priority": "High"});
        let t0 = Instant::now();
        let r = client
            .post(format!("{api}/{collection}"))
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "create answered {}", r.status());
        let mut got = 0usize;
        while got < opened {
            match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                Ok(Some(at)) => {
                    latencies.push(at.duration_since(t0).as_secs_f64() * 1000.0);
                    got += 1;
                }
                _ => break,
            }
        }
        delivered += got;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    latencies.sort_by(f64::total_cmp);
    let per_conn = if opened > 0 {
        after.saturating_sub(before) as f64 / opened as f64
    } else {
        f64::NAN
    };
    let summary = serde_json::json!({
        "connections_asked": conns, "connections_held": opened,
        "rss_before_kib": before, "rss_after_kib": after, "kib_per_idle_connection": per_conn,
        "events": events, "deliveries_expected": opened * events, "deliveries": delivered,
        "p50_ms": percentile(&latencies, 0.5), "p99_ms": percentile(&latencies, 0.99),
        "max_ms": latencies.last().copied().unwrap_or(f64::NAN),
    });
    println!("{summary}");
    Ok(())
}
