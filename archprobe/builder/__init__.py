"""From the op graph to torch: ``network.build`` (graph -> ``nn.Module``) and ``user_model``
(a user's ``package.module:factory``). This ``__init__`` imports nothing, so the torch-free
``user_model.is_module_ref`` loads without torch.
"""
