export { FlowPipeline, type PipelineOptions, type PipelineHandlers, type PipelineStats } from './pipeline.js';
export { readCaptureFile, type FileReadResult, type ReadOptions } from './capture/pcap-file-reader.js';
export { LinkType, type PacketSink } from './capture/packet-sink.js';
export { decodePacket, DecodedPacket, SkipReason, SKIP_REASON_NAMES } from './decode/index.js';
export { FlowTable, DEFAULT_FLOW_TABLE_OPTIONS, type FlowTableOptions } from './flow/flow-table.js';
export { AGENT_VERSION } from './version.js';
