// Compiled only to own the shared <torch/torch.h> precompiled header.
