// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Owned} from "./Owned.sol";
import {IController} from "./Interfaces.sol";

/// @notice Registry through which off-chain code and TicketBroker find the
/// other protocol contracts, so a contract can be replaced without touching
/// its readers.
contract Controller is Owned, IController {
    mapping(bytes32 => address) private registry;

    event SetContractInfo(bytes32 id, address contractAddress);

    function setContractInfo(bytes32 id, address contractAddress) external onlyOwner {
        registry[id] = contractAddress;
        emit SetContractInfo(id, contractAddress);
    }

    function getContract(bytes32 id) external view returns (address) {
        return registry[id];
    }
}
