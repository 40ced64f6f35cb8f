// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Single-owner access control for the dev contracts' test hooks.
/// The dev chain never transfers ownership, so there is no transfer function.
abstract contract Owned {
    address public immutable owner;

    constructor() {
        owner = msg.sender;
    }

    modifier onlyOwner() {
        require(msg.sender == owner, "caller is not the owner");
        _;
    }
}
