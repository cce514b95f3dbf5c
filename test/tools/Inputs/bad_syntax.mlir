// A KV cache type without its kv_heads field.
func.func @f(%kv: !tern.kv_cache<layers = 1, head_dim = 8, context = 4, f32>)
