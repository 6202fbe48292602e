import * as ort from 'onnxruntime-node';
ort.env.logLevel='fatal';
const PROBE_MODEL = Uint8Array.from(Buffer.from('CAgSB29ubnh2YWU6RQoaCgF4EgF5GghJZGVudGl0eSIISWRlbnRpdHkSBXByb2JlWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQEg==','base64'));
for (const p of ['cuda','webgpu','tensorrt','dml']) {
try { await ort.InferenceSession.create(PROBE_MODEL, {executionProviders:[p]}); console.log(p,'ok'); } catch (e) { console.log(p, JSON.stringify(e.message)); }
}
