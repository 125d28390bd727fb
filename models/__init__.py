"""paracrine.models"""
