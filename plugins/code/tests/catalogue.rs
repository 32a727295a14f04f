//! Every env file under `configs/envs/` using the `code` plugin, on its Hub
//! fixture (`tests/fixtures/hub/`): the env file's own `env_args` (each
//! matrix variant) configure the plugin, every record prepares, its
//! reference solution passes its tests when run with a local `python3`
//! (standing in for the host's sandbox), and an empty reply scores 0.

mod common;

use assay_sdk::testing::Harness;
use catalogue_fixtures::{check_fields, envs_of, records};
use code::Code;
use common::{episode, python3_available};

#[test]
fn every_code_env_passes_on_its_fixture() {
    let envs = envs_of("code");
    let ids: Vec<&str> = envs.iter().map(|env| env.id.as_str()).collect();
    assert_eq!(ids, ["humaneval-chat", "humaneval-base", "mbpp"]);
    if !python3_available() {
        return;
    }
    for env in &envs {
        let harness = Harness::<Code>::new(env.env_args.clone()).unwrap_or_else(|e| panic!("{}: {e:?}", env.id));
        for (i, record) in records(&env.hub).iter().enumerate() {
            check_fields(env, record);
            let prepared = harness.prepare(record.clone(), 0).unwrap();
            let reference = harness.reference(&prepared).unwrap().expect("a reference solution");
            let (score, _) = episode(&harness, record, &reference);
            assert_eq!(score.reward, 1.0, "{} record {i}: {score:?}", env.id);
            assert_eq!(harness.grade(&prepared, "").unwrap().reward, 0.0, "{} record {i}", env.id);
        }
    }
}
