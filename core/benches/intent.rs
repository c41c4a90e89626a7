#![allow(clippy::unwrap_used)] // benchmarks of known-good inputs
//! Intent encode, decode, sign, verify and batch verify.
//! Targets on the 2-core CI machine (README): verify >= 20,000/s on one
//! core, batch verify >= 50,000/s.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use solana_program::pubkey::Pubkey;
use std::hint::black_box;
use toss_core::intent::{self, Intent, SignedIntent, cluster};

fn intent(payer: &SigningKey, nonce: u64) -> Intent {
    Intent {
        cluster: cluster::DEVNET,
        program_id: Pubkey::new_from_array([3; 32]),
        payer: Pubkey::new_from_array(payer.verifying_key().to_bytes()),
        payee: Pubkey::new_from_array([2; 32]),
        mint: None,
        amount: 1_500_000_000,
        reference: None,
        memo: None,
        nonce,
        created_at: 1_790_000_000,
        expires_at: 1_790_086_400,
        durable_nonce: None,
    }
}

fn bench(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[1; 32]);
    let unsigned = intent(&key, 1);
    let signed = intent::sign(unsigned.clone(), &key).unwrap();
    let wire = signed.to_bytes().unwrap();

    let mut g = c.benchmark_group("intent");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode", |b| {
        b.iter(|| black_box(&unsigned).encode().unwrap())
    });
    g.bench_function("decode", |b| {
        b.iter(|| SignedIntent::from_bytes(black_box(&wire)).unwrap())
    });
    g.bench_function("sign", |b| {
        b.iter_batched(
            || unsigned.clone(),
            |i| intent::sign(i, &key).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("verify", |b| {
        b.iter(|| intent::verify_signature(black_box(&signed)).unwrap())
    });
    let payer_key = key.verifying_key();
    let body = unsigned.encode().unwrap();
    let sig = Signature::from_bytes(&signed.signature);
    g.bench_function("verify_strict_only", |b| {
        b.iter(|| payer_key.verify_strict(black_box(&body), &sig).unwrap())
    });
    g.bench_function("key_decompress", |b| {
        b.iter(|| VerifyingKey::from_bytes(black_box(payer_key.as_bytes())).unwrap())
    });
    g.finish();

    // 64 intents from 64 payers, verified together.
    const N: usize = 64;
    let keys: Vec<SigningKey> = (0..N)
        .map(|i| SigningKey::from_bytes(&[i as u8 + 10; 32]))
        .collect();
    let batch: Vec<SignedIntent> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| intent::sign(intent(k, i as u64), k).unwrap())
        .collect();
    let bodies: Vec<Vec<u8>> = batch.iter().map(|s| s.intent.encode().unwrap()).collect();
    let messages: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let signatures: Vec<Signature> = batch
        .iter()
        .map(|s| Signature::from_bytes(&s.signature))
        .collect();
    let verifying: Vec<VerifyingKey> = keys.iter().map(SigningKey::verifying_key).collect();
    let mut g = c.benchmark_group("intent-batch");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("verify_batch_64", |b| {
        b.iter(|| ed25519_dalek::verify_batch(&messages, &signatures, &verifying).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
