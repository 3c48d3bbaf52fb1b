#!/usr/bin/python3
"""Writes tiny random-weight GGUF models on llama.cpp's real tokenizer
vocabularies, for tests and benches (no model weights exist on this machine).

    make_tiny_models.py VOCAB_DIR OUT_DIR

Needs the gguf-py package of the llama.cpp source on PYTHONPATH and numpy
(Debian python3-numpy). Deterministic: a fixed seed per model, so the same
inputs give byte-identical files.

  tiny-bert.gguf       BERT encoder, mean pooling (like bge/MiniLM)
  tiny-bert-cls.gguf   the same weights, CLS pooling
  tiny-qwen2.gguf      qwen2 decoder with the ChatML chat template
  tiny-llama-embed.gguf llama (SPM) decoder with last-token pooling
                       (a decoder embedding model, like Qwen3-Embedding)
  tiny-llama.gguf      the same llama decoder without pooling metadata
                       (a chat model: not an embedder)
  tiny-bert-rerank.gguf BERT cross-encoder: rank pooling (CLS token) and the
                       classification head llama.cpp reads for it (cls: dense
                       + tanh, cls.output: one relevance logit), as
                       convert_hf_to_gguf writes bge-reranker / ms-marco
                       cross-encoders
  tiny-bert-rerank-tpl.gguf the same cross-encoder with a rerank template
                       (tokenizer.chat_template.rerank, as Qwen3-Reranker
                       GGUFs carry one): the pair is the template filled in
  tiny-qwen3-rerank.gguf a decoder reranker as convert_hf_to_gguf writes
                       Qwen3-Reranker: qwen3 (q/k norms), rank pooling (the
                       last token), a two-label head ("yes", "no": the LM
                       head's rows) that llama.cpp softmaxes, and the
                       Qwen3-Reranker rerank template (ChatML markers)
"""
import os
import sys

import numpy as np
import gguf
from gguf import GGUFReader, GGUFValueType, GGUFWriter

N_EMBD, N_LAYER, N_HEAD, N_FF = 64, 2, 4, 128


def copy_tokenizer(reader: GGUFReader, writer: GGUFWriter) -> int:
    """Copies every tokenizer.* key; returns the vocabulary size."""
    n_vocab = 0
    for name, field in reader.fields.items():
        if not name.startswith("tokenizer."):
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == GGUFValueType.ARRAY else None
        val = field.contents()
        if name == "tokenizer.ggml.tokens":
            n_vocab = len(val)
        writer.add_key_value(name, val, vtype, sub_type=sub)
    return n_vocab


def rnd(rng, *shape, scale=0.02):
    # numpy shape is ggml's ne reversed: ne [n_embd, n_vocab] -> (n_vocab, n_embd)
    return (rng.standard_normal(shape) * scale).astype(np.float32)


RERANK_TEMPLATE = "[CLS] query: {query} [SEP] passage: {document} [SEP]"


def write_bert(vocab_path: str, out: str, pooling: int, seed: int, rerank: bool = False,
               rerank_template: str | None = None) -> None:
    rng = np.random.default_rng(seed)
    reader = GGUFReader(vocab_path)
    w = GGUFWriter(out, "bert")
    w.add_name("tiny-bert-rerank" if rerank else "tiny-bert")
    n_vocab = copy_tokenizer(reader, w)
    if rerank_template is not None:
        w.add_string("tokenizer.chat_template.rerank", rerank_template)
    n_ctx = 512
    w.add_context_length(n_ctx)
    w.add_embedding_length(N_EMBD)
    w.add_feed_forward_length(N_FF)
    w.add_block_count(N_LAYER)
    w.add_head_count(N_HEAD)
    w.add_layer_norm_eps(1e-12)
    w.add_causal_attention(False)
    w.add_pooling_type(gguf.PoolingType(pooling))
    if rerank:
        w.add_classifier_output_labels(["LABEL_0"])  # one relevance logit
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tensor("token_embd.weight", rnd(rng, n_vocab, N_EMBD, scale=0.5))
    w.add_tensor("token_types.weight", rnd(rng, 2, N_EMBD, scale=0.5))
    w.add_tensor("position_embd.weight", rnd(rng, n_ctx, N_EMBD, scale=0.5))
    w.add_tensor("token_embd_norm.weight", np.ones(N_EMBD, np.float32))
    w.add_tensor("token_embd_norm.bias", np.zeros(N_EMBD, np.float32))
    for i in range(N_LAYER):
        p = f"blk.{i}."
        for t in ("attn_q", "attn_k", "attn_v", "attn_output"):
            w.add_tensor(p + t + ".weight", rnd(rng, N_EMBD, N_EMBD, scale=0.15))
            w.add_tensor(p + t + ".bias", rnd(rng, N_EMBD))
        w.add_tensor(p + "attn_output_norm.weight", np.ones(N_EMBD, np.float32))
        w.add_tensor(p + "attn_output_norm.bias", np.zeros(N_EMBD, np.float32))
        w.add_tensor(p + "ffn_up.weight", rnd(rng, N_FF, N_EMBD, scale=0.15))
        w.add_tensor(p + "ffn_up.bias", rnd(rng, N_FF))
        w.add_tensor(p + "ffn_down.weight", rnd(rng, N_EMBD, N_FF, scale=0.15))
        w.add_tensor(p + "ffn_down.bias", rnd(rng, N_EMBD))
        w.add_tensor(p + "layer_output_norm.weight", np.ones(N_EMBD, np.float32))
        w.add_tensor(p + "layer_output_norm.bias", np.zeros(N_EMBD, np.float32))
    if rerank:
        # The sequence-classification head (RoBERTa's classifier.dense and
        # classifier.out_proj): ne [n_embd, n_embd] and [n_embd, 1].
        w.add_tensor("cls.weight", rnd(rng, N_EMBD, N_EMBD, scale=0.3))
        w.add_tensor("cls.bias", rnd(rng, N_EMBD))
        w.add_tensor("cls.output.weight", rnd(rng, 1, N_EMBD, scale=1.0))
        w.add_tensor("cls.output.bias", rnd(rng, 1))
    finish(w, out)


def write_decoder(vocab_path: str, out: str, arch: str, seed: int, pooling=None, rerank: bool = False) -> None:
    """rerank: as convert_hf_to_gguf writes Qwen3-Reranker (see the docstring)."""
    rng = np.random.default_rng(seed)
    reader = GGUFReader(vocab_path)
    w = GGUFWriter(out, arch)
    w.add_name("tiny-" + arch + ("-rerank" if rerank else ""))
    n_vocab = copy_tokenizer(reader, w)
    if rerank:
        w.add_string("tokenizer.chat_template.rerank", QWEN3_RERANK_TEMPLATE)
    w.add_context_length(2048)
    w.add_embedding_length(N_EMBD)
    w.add_feed_forward_length(N_FF)
    w.add_block_count(N_LAYER)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-6)
    if arch == "llama":
        w.add_vocab_size(n_vocab)
    if pooling is not None:
        w.add_pooling_type(gguf.PoolingType(pooling))
    if rerank:
        w.add_classifier_output_labels(["yes", "no"])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    # Large embedding scale: well-separated logits, so greedy decoding does not
    # hinge on rounding differences between batch shapes.
    embd = rnd(rng, n_vocab, N_EMBD, scale=1.0).astype(np.float16)
    w.add_tensor("token_embd.weight", embd)
    w.add_tensor("output_norm.weight", np.ones(N_EMBD, np.float32))
    if rerank:
        # The head: two rows of the (tied) LM head, "yes" then "no", scaled
        # down so that the softmax of their logits is not saturated.
        w.add_tensor("cls.output.weight", np.stack([embd[17], embd[42]]).astype(np.float32) * 0.05)
    for i in range(N_LAYER):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(N_EMBD, np.float32))
        for t in ("attn_q", "attn_k", "attn_v"):
            w.add_tensor(p + t + ".weight", rnd(rng, N_EMBD, N_EMBD, scale=0.15))
            if arch == "qwen2":
                w.add_tensor(p + t + ".bias", rnd(rng, N_EMBD))
        if arch == "qwen3":  # per-head q/k RMS norms
            w.add_tensor(p + "attn_q_norm.weight", np.ones(N_EMBD // N_HEAD, np.float32))
            w.add_tensor(p + "attn_k_norm.weight", np.ones(N_EMBD // N_HEAD, np.float32))
        w.add_tensor(p + "attn_output.weight", rnd(rng, N_EMBD, N_EMBD, scale=0.15))
        w.add_tensor(p + "ffn_norm.weight", np.ones(N_EMBD, np.float32))
        w.add_tensor(p + "ffn_gate.weight", rnd(rng, N_FF, N_EMBD, scale=0.15))
        w.add_tensor(p + "ffn_up.weight", rnd(rng, N_FF, N_EMBD, scale=0.15))
        w.add_tensor(p + "ffn_down.weight", rnd(rng, N_EMBD, N_FF, scale=0.15))
    finish(w, out)


QWEN3_RERANK_TEMPLATE = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct "
    "provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n"
    "<|im_start|>user\n<Instruct>: Given a web search query, retrieve relevant passages that answer the query\n"
    "<Query>: {query}\n<Document>: {document}<|im_end|>\n"
    "<|im_start|>assistant\n<think>\n\n</think>\n\n")


def write_qwen3_rerank(vocab_path: str, out: str, seed: int) -> None:
    write_decoder(vocab_path, out, "qwen3", seed, pooling=int(gguf.PoolingType.RANK), rerank=True)


def finish(w: GGUFWriter, out: str) -> None:
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    vocab, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    v = lambda name: os.path.join(vocab, f"ggml-vocab-{name}.gguf")
    o = lambda name: os.path.join(out, name)
    write_bert(v("bert-bge"), o("tiny-bert.gguf"), pooling=1, seed=1)       # MEAN
    write_bert(v("bert-bge"), o("tiny-bert-cls.gguf"), pooling=2, seed=1)   # CLS
    write_bert(v("bert-bge"), o("tiny-bert-rerank.gguf"), pooling=4, seed=4, rerank=True)  # RANK
    write_bert(v("bert-bge"), o("tiny-bert-rerank-tpl.gguf"), pooling=4, seed=4, rerank=True,
               rerank_template=RERANK_TEMPLATE)
    write_decoder(v("qwen2"), o("tiny-qwen2.gguf"), "qwen2", seed=2)
    write_decoder(v("llama-spm"), o("tiny-llama-embed.gguf"), "llama", seed=3, pooling=3)  # LAST
    write_decoder(v("llama-spm"), o("tiny-llama.gguf"), "llama", seed=3)
    write_qwen3_rerank(v("qwen2"), o("tiny-qwen3-rerank.gguf"), seed=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
